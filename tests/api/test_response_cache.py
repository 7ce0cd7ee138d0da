"""The job list answers again from its cache only while no job opening changed, whoever wrote."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from adflux.api.response_cache import EXTENSION, ResponseCache
from adflux.app import create_app
from adflux.extensions import db
from adflux.models import DataVersion
from conftest import issue_test_token, route_client
from factories import job_data, make_job


def _token(app) -> str | None:  # type: ignore[no-untyped-def]
    with app.app_context():
        token = db.session.scalar(select(DataVersion.token).where(DataVersion.name == "job_openings"))
        db.session.remove()
    return token


def test_the_same_request_is_answered_again_without_querying_the_jobs(client, app_ctx, job_statements):
    for i in range(3):
        make_job(title=f"Analista {i}")
    first = client.get("/api/v1/jobs?page_size=2")
    job_statements.clear()
    again = client.get("/api/v1/jobs?page_size=2")
    assert first.status_code == again.status_code == 200
    assert again.data == first.data and again.get_json()["total"] == 3
    assert job_statements == []  # only the version token was read
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "private, no-cache"


def test_a_write_through_the_api_shows_in_the_next_answer(client, app_ctx):
    make_job(title="Primero")
    before = client.get("/api/v1/jobs").get_json()
    created = client.post("/api/v1/jobs", json=job_data(title="Segundo")).get_json()
    after = client.get("/api/v1/jobs").get_json()
    assert before["total"] == 1 and after["total"] == 2
    assert after["items"][0]["id"] == created["id"]

    assert client.post(f"/api/v1/jobs/{created['id']}/close").status_code == 200
    assert client.get("/api/v1/jobs?status=open").get_json()["total"] == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE job_openings SET title = 'Cambiado por otro proceso'",
        "DELETE FROM job_openings",
    ],
)
def test_a_write_by_anyone_else_shows_in_the_next_answer(app, client, app_ctx, statement):
    # Another worker, the CLI, an import: SQL on another connection, which the app never sees.
    make_job(title="Original")
    assert client.get("/api/v1/jobs").get_json()["items"][0]["title"] == "Original"
    token = _token(app)
    with db.engine.connect() as other:
        other.execute(text(statement))
        other.commit()
    assert _token(app) != token
    body = client.get("/api/v1/jobs").get_json()
    if statement.startswith("DELETE"):
        assert body["total"] == 0 and body["items"] == []
    else:
        assert body["items"][0]["title"] == "Cambiado por otro proceso"


def test_truncate_changes_the_token_on_postgresql(app, client, app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE is covered above)")
    make_job()
    assert client.get("/api/v1/jobs").get_json()["total"] == 1
    token = _token(app)
    with db.engine.connect() as other:
        other.execute(text("TRUNCATE job_openings CASCADE"))
        other.commit()
    assert _token(app) != token
    assert client.get("/api/v1/jobs").get_json()["total"] == 0


def test_a_write_that_rolls_back_changes_nothing_and_the_answer_stays(app, client, app_ctx):
    make_job(title="Estable")
    first = client.get("/api/v1/jobs")
    token = _token(app)
    with db.engine.connect() as other:
        other.execute(text("UPDATE job_openings SET title = 'Nunca'"))
        other.rollback()
    assert _token(app) == token
    assert client.get("/api/v1/jobs").data == first.data


def test_no_token_means_no_cache(app, client, app_ctx, job_statements):
    make_job()
    with db.engine.connect() as other:
        other.execute(text("DELETE FROM data_versions"))
        other.commit()
    for _ in range(2):
        job_statements.clear()
        response = client.get("/api/v1/jobs")
        assert response.status_code == 200 and response.get_json()["total"] == 1
        assert job_statements  # answered from the database both times
        assert "ETag" not in response.headers


def test_each_query_string_is_its_own_answer(client, app_ctx):
    for i in range(3):
        make_job(city="Pasto", department="Nariño", title=f"Pasto {i}")
    make_job(city="Cali", department="Valle del Cauca", title="Cali")
    assert client.get("/api/v1/jobs?city=Pasto").get_json()["total"] == 3
    assert client.get("/api/v1/jobs?city=Cali").get_json()["total"] == 1
    assert client.get("/api/v1/jobs").get_json()["total"] == 4
    one = client.get("/api/v1/jobs?city=Pasto&page_size=1&page=2").get_json()
    two = client.get("/api/v1/jobs?page=2&page_size=1&city=Pasto").get_json()  # same, reordered
    assert one == two and one["items"][0]["title"] == "Pasto 1"


def test_if_none_match_gets_a_304_until_a_job_changes(client, app_ctx):
    make_job()
    first = client.get("/api/v1/jobs")
    etag = first.headers["ETag"]
    not_modified = client.get("/api/v1/jobs", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    assert client.get("/api/v1/jobs?page_size=5", headers={"If-None-Match": etag}).status_code == 200

    client.post("/api/v1/jobs", json=job_data())
    changed = client.get("/api/v1/jobs", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["total"] == 2
    assert changed.headers["ETag"] != etag


def test_refused_and_invalid_requests_are_never_served_from_the_cache(app, client, app_ctx):
    make_job()
    cached = client.get("/api/v1/jobs")
    assert cached.status_code == 200
    anonymous = app.test_client().get("/api/v1/jobs")
    assert anonymous.status_code == 401  # authentication runs before the cache
    assert client.get("/api/v1/jobs?page_size=0").status_code == 422
    assert client.get("/api/v1/jobs?page_size=0").status_code == 422  # not kept as an answer

    _, token = issue_test_token(app, "viewer")
    viewer = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert viewer.status_code == 200 and viewer.data == cached.data  # the list is the same for all


def test_a_process_keeps_at_most_its_configured_number_of_answers(client, app_ctx, app):
    cache: ResponseCache = app.extensions[EXTENSION]
    cache.clear()
    make_job()
    for size in range(1, cache.max_entries + 20):
        assert client.get(f"/api/v1/jobs?page_size={min(size, 200)}&q=x{size}").status_code == 200
    assert len(cache) == cache.max_entries


def test_the_least_recently_used_answer_goes_first() -> None:
    from adflux.api.response_cache import Entry

    cache = ResponseCache(2)
    cache.put(("a",), Entry(b"a", "application/json", "1"))
    cache.put(("b",), Entry(b"b", "application/json", "2"))
    assert cache.get(("a",)) is not None  # a is now the most recent
    cache.put(("c",), Entry(b"c", "application/json", "3"))
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None and cache.get(("c",)) is not None


def test_hits_and_misses_are_counted(client, app_ctx):
    from adflux.monitoring.prometheus import RESPONSE_CACHE_LOOKUPS

    def count(outcome: str) -> float:
        return RESPONSE_CACHE_LOOKUPS.labels("jobs.JobList", outcome)._value.get()

    make_job()
    hits, misses = count("hit"), count("miss")
    client.get("/api/v1/jobs?page_size=3")
    client.get("/api/v1/jobs?page_size=3")
    client.get("/api/v1/jobs?page_size=3")
    assert count("miss") == misses + 1 and count("hit") == hits + 2


def test_with_the_cache_off_every_request_is_answered_from_the_database(app, settings, job_statements):
    # `app` (the session's) is asked for so that the database is emptied after the test.
    uncached = create_app(settings.replace(response_cache_entries=0))
    try:
        assert EXTENSION not in uncached.extensions
        _, token = issue_test_token(uncached, "viewer")
        api = uncached.test_client()
        api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        route = route_client(uncached, api)  # past the fast path, which reads without SQLAlchemy
        for _ in range(2):
            job_statements.clear()
            response = route.get("/api/v1/jobs")
            assert response.status_code == 200 and job_statements and "ETag" not in response.headers
        first = api.get("/api/v1/jobs")  # the fast path reads each time as well: a change shows at once
        with uncached.app_context():
            make_job(title="Nueva")
            db.session.remove()
        again = api.get("/api/v1/jobs")
        assert first.get_json()["total"] == 0 and again.get_json()["total"] == 1
        assert "ETag" not in again.headers
    finally:
        uncached.extensions["adflux_jobs_fast_path"].close()
        with uncached.app_context():
            db.engine.dispose()


def test_seeding_in_bulk_shows_in_the_next_answer(app, client, app_ctx):
    # On PostgreSQL the seed writes with COPY; the statement trigger sees that too.
    from adflux.services.seeding import seed_database

    assert client.get("/api/v1/jobs").get_json()["total"] == 0
    seed_database(candidates=10, jobs=7, seed=5)
    db.session.remove()
    assert client.get("/api/v1/jobs").get_json()["total"] == 7


def test_when_the_tokens_cannot_be_read_the_view_answers_as_usual(app, client, app_ctx, monkeypatch):
    make_job()
    client.get("/api/v1/jobs")  # cached
    engine = db.engine

    def refused():  # type: ignore[no-untyped-def]
        raise engine.dialect.loaded_dbapi.OperationalError("connection refused")

    monkeypatch.setattr(type(engine), "raw_connection", lambda self: refused())
    response = route_client(app, client).get("/api/v1/jobs")  # the route's own token read
    assert response.status_code == 200 and response.get_json()["total"] == 1
    assert "ETag" not in response.headers  # built by the view, not served from the cache
