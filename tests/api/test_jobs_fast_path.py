"""The job list's WSGI fast path answers exactly as the Flask route does, or leaves it to the route.

Every comparison sends the same request twice: through the app (the fast path first) and through
`route_client` (the Flask app alone). Whether the fast path answered is told by the SQL statements
SQLAlchemy ran: the fast path reads on a libpq connection of its own, the route through SQLAlchemy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from adflux.api.jobs_fast_path import EXTENSION
from adflux.api.response_cache import EXTENSION as CACHE
from adflux.app import create_app
from adflux.extensions import db
from adflux.models import ApiToken
from adflux.services import auth as auth_service
from adflux.services import rate_limits
from adflux.settings import current_settings
from conftest import captured_access_lines, issue_test_token, route_client
from factories import make_job

VARIED = [
    "Analista de datos — Bogotá (ñandú, café, 日本, 🚀)",
    'Comillas "dobles", barra \\ y /',
    "Control\x01\x1f tab\t salto\nretorno\r fin\u2028\u2029\x7f",
    "Sin salario",
]
QUERIES = [
    "",
    "?page=1",
    "?page_size=3",
    "?page=2&page_size=3",
    "?page=3&page_size=5",
    "?page=40&page_size=5",  # past the end: no items
    "?status=open",
    "?status=closed",
    "?category=tecnologia&modality=remoto",
    "?status=open&category=salud&modality=presencial&page_size=200",
    "?modality=hibrido&page_size=1&page=4",
    "?page_size=2&status=open&page=2",  # same arguments, another order
]


def _fast_path_on(app: Flask) -> None:
    if app.extensions[EXTENSION].reader is None:
        pytest.skip("the fast path reads PostgreSQL through psycopg only")


def _seed(app: Flask) -> None:
    with app.app_context():
        for i in range(14):
            title = VARIED[i % len(VARIED)] + f" {i}"
            make_job(
                title=title,
                description=VARIED[(i + 1) % len(VARIED)],
                category=("tecnologia", "salud")[i % 2],
                modality=("presencial", "remoto", "hibrido")[i % 3],
                salary_min=None if "Sin" in title else 1_000_000 + i,
                salary_max=None if "Sin" in title else 2_000_000 + i,
                education_required=None if i % 4 == 0 else "profesional",
            )
        # Times with and without microseconds (and with trailing zeros), closed openings.
        db.session.execute(
            text("UPDATE job_openings SET created_at = '2026-01-02 03:04:05+00' WHERE id % 3 = 0")
        )
        db.session.execute(
            text("UPDATE job_openings SET updated_at = '2026-05-06 07:08:09.12+00' WHERE id % 2 = 0")
        )
        db.session.execute(
            text(
                "UPDATE job_openings SET status = 'closed', close_reason = 'manual', "
                "closed_at = '2026-03-04 05:06:07.000001+05', expires_at = '1999-12-31 23:59:59.5+00' "
                "WHERE id % 4 = 1"
            )
        )
        db.session.commit()
        db.session.remove()


def _headers(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(k, v) for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")]


@pytest.fixture
def uncached_app(app: Flask, settings) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """An app with the response cache off (`app` is asked for so the database is emptied after)."""
    other = create_app(settings.replace(response_cache_entries=0))
    yield other
    other.extensions[EXTENSION].close()
    with other.app_context():
        db.engine.dispose()


def _clients(app: Flask) -> tuple[FlaskClient, FlaskClient]:
    _, token = issue_test_token(app, "viewer")
    fast = app.test_client()
    fast.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    fast.get("/api/v1/jobs/0")  # the route checks the token once; the fast path then knows it
    return fast, route_client(app, fast)


@pytest.mark.parametrize("cache", ["on", "off"])
def test_the_fast_path_answers_the_same_bytes_and_headers_as_the_route(request, app, cache, job_statements):  # type: ignore[no-untyped-def]
    app = app if cache == "on" else request.getfixturevalue("uncached_app")
    _fast_path_on(app)
    _seed(app)
    fast, route = _clients(app)
    for query in QUERIES:
        if cache == "on":
            app.extensions[CACHE].clear()  # each builds its own answer
        job_statements.clear()
        mine = fast.get("/api/v1/jobs" + query, headers={"X-Request-ID": "fast-1"})
        assert job_statements == [], query  # answered by the fast path
        if cache == "on":
            app.extensions[CACHE].clear()
        theirs = route.get("/api/v1/jobs" + query, headers={"X-Request-ID": "route-1"})
        assert job_statements, query  # answered by the route
        assert mine.status_code == theirs.status_code == 200, query
        assert mine.data == theirs.data, query
        assert _headers(mine) == _headers(theirs), query
        assert mine.headers["X-Request-ID"] == "fast-1"
        assert ("ETag" in mine.headers) == (cache == "on")
    page = json.loads(fast.get("/api/v1/jobs?page_size=200").data)
    assert page["total"] == 14 and len(page["items"]) == 14
    assert any("\x01" in item["title"] for item in page["items"])  # the text came through whole
    assert fast.get("/api/v1/jobs").headers["X-Request-ID"] not in ("", "fast-1")  # one of its own


def test_an_empty_list_is_answered_alike(uncached_app, job_statements):
    _fast_path_on(uncached_app)
    fast, route = _clients(uncached_app)
    for query in ("", "?page=3", "?status=closed"):
        job_statements.clear()
        mine = fast.get("/api/v1/jobs" + query)
        assert job_statements == []
        theirs = route.get("/api/v1/jobs" + query)
        assert mine.data == theirs.data and _headers(mine) == _headers(theirs)
        assert json.loads(mine.data)["items"] == [] and json.loads(mine.data)["total"] == 0


def test_if_none_match_gets_a_304_as_from_the_cache(app, job_statements):
    _fast_path_on(app)
    _seed(app)
    fast, route = _clients(app)
    etag = fast.get("/api/v1/jobs?page_size=5").headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        job_statements.clear()
        mine = fast.get("/api/v1/jobs?page_size=5", headers={"If-None-Match": sent})
        theirs = route.get("/api/v1/jobs?page_size=5", headers={"If-None-Match": sent})
        assert mine.status_code == theirs.status_code == 304, sent
        assert mine.data == theirs.data == b"" and _headers(mine) == _headers(theirs)
        assert "X-Request-ID" in mine.headers
    assert fast.get("/api/v1/jobs?page_size=5", headers={"If-None-Match": '"other"'}).status_code == 200
    with app.app_context():
        make_job(title="Cambia la versión")
        db.session.remove()
    changed = fast.get("/api/v1/jobs?page_size=5", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert json.loads(changed.data)["total"] == 15


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?status=bogus", 422),
        ("?page=0", 422),
        ("?page_size=201", 422),
        ("?page=abc", 422),
        ("?page=+1", 200),  # webargs reads it; the fast path leaves every such spelling to it
        ("?page=01", 200),
        ("?page_size= 5", 200),
        ("?status=open&status=closed", 200),
        ("?status=", 422),
        ("?q=", 422),
        ("?cursor=abc", 200),  # not a field of this list: ignored by the route
        ("?city=Bogotá", 200),
        ("?q=Analista", 200),
        ("?status=open&q=datos", 200),
    ],
)
def test_everything_else_is_answered_by_the_route(app, job_statements, query, status):
    _fast_path_on(app)
    _seed(app)
    fast, route = _clients(app)
    app.extensions[CACHE].clear()
    job_statements.clear()
    mine = fast.get("/api/v1/jobs" + query)
    assert mine.status_code == status, mine.data
    if status == 200:
        assert job_statements  # the route read it
        app.extensions[CACHE].clear()
        assert mine.data == route.get("/api/v1/jobs" + query).data


def test_callers_the_fast_path_does_not_know_are_answered_by_the_route(app, anon_client, job_statements):
    _fast_path_on(app)
    _seed(app)
    fast, _ = _clients(app)
    token = fast.environ_base["HTTP_AUTHORIZATION"].split()[1]
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer adf_nothing_real"}, 401),
        ({"Authorization": f"Basic {token}"}, 401),
        ({"Authorization": "Bearer "}, 401),
    ):
        mine = anon_client.get("/api/v1/jobs", headers=headers)
        theirs = route_client(app).get("/api/v1/jobs", headers=headers)
        assert mine.status_code == theirs.status_code == status
        assert mine.data == theirs.data and _headers(mine) == _headers(theirs)
    # A valid token this process has not checked yet: the route checks it (and the fast path
    # answers the next request).
    auth_service.clear_token_cache()
    job_statements.clear()
    assert fast.get("/api/v1/jobs").status_code == 200 and job_statements
    job_statements.clear()
    assert fast.get("/api/v1/jobs").status_code == 200 and not job_statements
    # A revoked token is refused at once (revoking forgets it in every cache this process has).
    with app.app_context():
        api_token = db.session.get(ApiToken, auth_service.authenticate_token(token=token).token_id)
        api_token.revoked_at = datetime.now(UTC)
        db.session.commit()
        db.session.remove()
    assert fast.get("/api/v1/jobs").status_code == 401
    # A dashboard session's cookie: the route (its session handling) answers.
    fast.set_cookie("session", "x")
    job_statements.clear()
    assert fast.get("/api/v1/jobs").status_code == 401 and job_statements == []


def test_a_caller_over_its_rate_limit_gets_the_routes_429(settings, app):  # type: ignore[no-untyped-def]
    limited = create_app(settings.replace(api_rate_limit_per_minute=3))
    try:
        _fast_path_on(limited)
        _seed(limited)  # the fast path answers a page with items
        fast, _ = _clients(limited)  # one call counted by the route
        counted: list[str] = []
        with limited.app_context():
            counter = rate_limits.store(current_settings(limited))
        window_hit = counter.window_hit

        def counting(key, *args):  # the real store, each call it counts recorded
            counted.append(key)
            return window_hit(key, *args)

        counter.window_hit = counting  # type: ignore[method-assign]
        try:
            answers = [fast.get("/api/v1/jobs").status_code for _ in range(4)]
            refused = fast.get("/api/v1/jobs")
        finally:
            counter.window_hit = window_hit  # type: ignore[method-assign]
        assert answers == [200, 200, 429, 429]
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        # every call counted once, the refused ones too (the fast path's count, not the route's again)
        assert len(counted) == 5 and len(set(counted)) == 1
    finally:
        limited.extensions[EXTENSION].close()
        with limited.app_context():
            db.engine.dispose()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_alert_sums_and_the_access_line_are_recorded_as_by_the_route(app, job_statements):
    _fast_path_on(app)
    _seed(app)
    fast, route = _clients(app)
    labels = {"method": "GET", "route": "/api/v1/jobs"}
    stats = app.extensions["adflux_request_stats"]
    with captured_access_lines() as lines:
        for client, request_id in ((fast, "fast-1"), (route, "route-1")):
            app.extensions[CACHE].clear()
            job_statements.clear()
            counted = _sample("adflux_http_requests_total", **labels, status="200")
            timed = _sample("adflux_http_request_duration_seconds_count", **labels)
            queries = _sample("adflux_db_query_duration_seconds_count", operation="select")
            window = sum(sums[0] for key, sums in stats.pending.items() if key[1] == "GET /api/v1/jobs")
            assert client.get("/api/v1/jobs", headers={"X-Request-ID": request_id}).status_code == 200
            assert (job_statements == []) == (client is fast)
            assert _sample("adflux_http_requests_total", **labels, status="200") == counted + 1
            assert _sample("adflux_http_request_duration_seconds_count", **labels) == timed + 1
            assert _sample("adflux_db_query_duration_seconds_count", operation="select") >= queries + 1
            after = sum(sums[0] for key, sums in stats.pending.items() if key[1] == "GET /api/v1/jobs")
            assert after == window + 1
    mine, theirs = lines
    assert mine["request_id"] == "fast-1" and theirs["request_id"] == "route-1"
    assert mine["duration_ms"] >= 0
    for line in (mine, theirs):
        del line["request_id"], line["duration_ms"], line["ts"]
    assert mine == theirs
    assert mine["message"] == "GET /api/v1/jobs 200" and mine["user_role"] == "viewer"


def test_a_connection_the_server_dropped_is_replaced_without_an_error(uncached_app, job_statements):
    _fast_path_on(uncached_app)
    _seed(uncached_app)
    fast, _ = _clients(uncached_app)
    first = fast.get("/api/v1/jobs")
    reader = uncached_app.extensions[EXTENSION].reader
    killed = reader._local.connection.pgconn.backend_pid
    with uncached_app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (killed,)).fetchone() == (True,)
    job_statements.clear()
    again = fast.get("/api/v1/jobs")  # the fast path fails, drops it; the route answers
    assert again.status_code == 200 and again.data == first.data and job_statements
    job_statements.clear()
    third = fast.get("/api/v1/jobs")  # a new connection
    assert third.status_code == 200 and third.data == first.data and job_statements == []
    assert reader._local.connection.pgconn.backend_pid != killed


def test_a_database_the_fast_path_cannot_reach_is_left_to_the_route(uncached_app, monkeypatch):
    _fast_path_on(uncached_app)
    _seed(uncached_app)
    fast, _ = _clients(uncached_app)
    reader = uncached_app.extensions[EXTENSION].reader
    reader.drop()

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(psycopg, "connect", refused)
    response = fast.get("/api/v1/jobs")
    assert response.status_code == 200 and json.loads(response.data)["total"] == 14


def test_times_are_written_as_isoformat_writes_them(uncached_app):
    _fast_path_on(uncached_app)
    _seed(uncached_app)
    fast, _ = _clients(uncached_app)
    items = json.loads(fast.get("/api/v1/jobs?page_size=200").data)["items"]
    written = {item[key] for item in items for key in ("created_at", "closed_at", "expires_at") if item[key]}
    assert "2026-01-02T03:04:05+00:00" in written
    assert "2026-03-04T00:06:07.000001+00:00" in written
    assert "1999-12-31T23:59:59.500000+00:00" in written
    assert all(datetime.fromisoformat(value).tzinfo == UTC for value in written)


def test_the_page_statements_are_planned_once(uncached_app):
    _fast_path_on(uncached_app)
    _seed(uncached_app)
    fast, _ = _clients(uncached_app)
    for _ in range(8):
        assert fast.get("/api/v1/jobs?status=open").status_code == 200
    connection = uncached_app.extensions[EXTENSION].reader._local.connection
    plans = connection.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'adflux_job_page_100'"
    ).fetchone()
    assert plans is not None and plans[0] >= 8 and plans[1] == 0


def test_the_alert_window_is_written_once_the_answer_is_sent(app, job_statements):
    _fast_path_on(app)
    _seed(app)
    fast, _ = _clients(app)
    stats = app.extensions["adflux_request_stats"]
    # A flush is due (one an earlier test's unclosed answer scheduled is not running): it runs
    # when the server closes the answer.
    stats.last_flush, stats.flushing = 0.0, False
    job_statements.clear()
    response = fast.get("/api/v1/jobs")
    assert response.status_code == 200 and job_statements == []
    response.close()  # what the server does once it has sent the answer
    with app.app_context():
        written = db.session.execute(
            text("SELECT sum(requests) FROM request_stats WHERE route = 'GET /api/v1/jobs'")
        ).scalar()
        db.session.remove()
    assert written and written >= 1


def test_each_thread_reads_on_a_connection_of_its_own(uncached_app):
    # gthread workers: a worker's threads answer at once, each on its own connection.
    _fast_path_on(uncached_app)
    _seed(uncached_app)
    reader = uncached_app.extensions[EXTENSION].reader
    seen: list[tuple[int, int]] = []
    ready = threading.Barrier(2)

    def read() -> None:
        page = reader.read({"status": "open"}, page=1, page_size=5)
        seen.append((reader._local.connection.pgconn.backend_pid, page.total))
        ready.wait(timeout=10)  # both hold their connection at once
        reader.drop()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(seen) == 2 and len({pid for pid, _ in seen}) == 2
    assert {total for _, total in seen} == {10}  # 14 openings, 4 of them closed
