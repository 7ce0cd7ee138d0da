"""The response-cache hits of the campaign, candidate and report lists are answered before Flask
(api/cached_list_hits) exactly as the Flask route answers them; everything else is the route's.

Each comparison sends the same request through the app (the fast paths first) and through
`route_client` (the Flask app alone). Whether Flask answered is told by Flask's own
`request_started` signal, sent for every request it handles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from adflux.api import fast_path
from adflux.api.response_cache import EXTENSION as CACHE
from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Segment
from adflux.services import campaigns as campaigns_service
from adflux.services import rate_limits
from adflux.services.local_dates import today
from adflux.settings import current_settings
from conftest import captured_access_lines, issue_test_token, route_client
from factories import make_candidate, make_job, make_segments

# kind -> (path, the route's endpoint, a query the route stores, a write that changes its token,
# what the answer shows after that write)
LISTS = {
    "campaigns": (
        "/api/v1/campaigns",
        "campaigns.CampaignList",
        "?page_size=5&sort=name",
        "UPDATE campaigns SET name = 'Renombrada'",
        lambda body: {item["name"] for item in body["items"]} == {"Renombrada"},
    ),
    "candidates": (
        "/api/v1/candidates",
        "candidates.CandidateList",
        "?page_size=2",
        "UPDATE candidates SET city = 'Pasto', department = 'Nariño'",
        lambda body: {item["city"] for item in body["items"]} == {"Pasto"},
    ),
    "report": (
        "/api/v1/reports/performance",
        "reports.PerformanceReport",
        "?group_by=day,platform&limit=50",
        "UPDATE daily_metric_totals SET impressions = 4000",
        lambda body: body["totals"]["impressions"] == 8000,
    ),
}
KINDS = list(LISTS)

_TOTAL = (
    "INSERT INTO daily_metric_totals (date, platform, impressions, reach, clicks, engagements, "
    "spend_micros, applications, campaigns) VALUES (:day, :platform, :n, :n, 10, NULL, 5000000, 2, 1)"
)


def _elsewhere(*sql: str, **params: object) -> None:
    """Write on a connection of its own: another worker, the CLI, the metrics sync."""
    with db.engine.connect() as other:
        for statement in sql:
            other.execute(text(statement), params)
        other.commit()


def _seed(app: Flask, kind: str) -> None:
    with app.app_context():
        if kind == "campaigns":
            segment_ids = [s.id for s in make_segments(2)]
            for platforms in (("meta", "google"), ("x",)):
                job = make_job(title="Auxiliar de bodega — Cali (ñ, 🚀)", city="Cali")
                campaigns_service.create_campaign(
                    job_id=job.id, platforms=list(platforms), budget_total=3_000_000, segment_ids=segment_ids
                )
        elif kind == "candidates":
            for city in ("Medellín", "Bogotá", "Cúcuta"):
                make_candidate(city=city)
        else:
            day = today() - timedelta(days=1)
            _elsewhere(_TOTAL, day=day, platform="meta", n=1000)
            _elsewhere(_TOTAL, day=day - timedelta(days=1), platform="google", n=700)
        db.session.remove()


@pytest.fixture
def flask_requests(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests the Flask app itself handles while the test runs."""
    seen: list[str] = []

    def record(sender: Flask, **extra: object) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def _headers(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(k, v) for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")]


def _clients(app: Flask, role: str = "viewer") -> tuple[FlaskClient, FlaskClient]:
    _, token = issue_test_token(app, role)
    fast = app.test_client()
    fast.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    fast.get("/api/v1/jobs/0")  # the route checks the token once; the fast paths then know it
    return fast, route_client(app, fast)


def _same(mine, theirs) -> None:  # type: ignore[no-untyped-def]
    assert mine.status_code == theirs.status_code
    assert mine.data == theirs.data
    assert _headers(mine) == _headers(theirs)


@pytest.mark.parametrize("kind", KINDS)
def test_a_hit_is_answered_before_flask_with_the_routes_bytes_and_headers(app, kind, flask_requests):
    path, _, query, _, _ = LISTS[kind]
    _seed(app, kind)
    fast, route = _clients(app)
    app.extensions[CACHE].clear()
    flask_requests.clear()
    stored = fast.get(path + query, headers={"X-Request-ID": "miss-1"})  # a miss: the route stores it
    assert stored.status_code == 200 and flask_requests == [path]
    mine = fast.get(path + query, headers={"X-Request-ID": "fast-1"})
    assert flask_requests == [path]  # not Flask
    theirs = route.get(path + query, headers={"X-Request-ID": "route-1"})  # the route's own hit
    assert flask_requests == [path, path]
    for other in (stored, theirs):
        _same(mine, other)
    assert mine.status_code == 200 and mine.headers["Content-Type"] == "application/json"
    assert mine.headers["ETag"] and mine.headers["Cache-Control"] == "private, no-cache"
    assert mine.headers["X-Request-ID"] == "fast-1"
    assert "\U0001f680" in mine.data.decode() or kind != "campaigns"  # the text came through whole
    body = json.loads(mine.data)
    assert (body.get("total") or len(body["rows"])) >= 2
    # The same arguments in another order are the same answer, from the fast path too.
    reordered = "?" + "&".join(reversed(query[1:].split("&")))
    again = fast.get(path + reordered)
    assert again.data == mine.data and flask_requests == [path, path]


@pytest.mark.parametrize("kind", KINDS)
def test_if_none_match_gets_the_routes_304(app, kind, flask_requests):
    path, _, query, _, _ = LISTS[kind]
    _seed(app, kind)
    fast, route = _clients(app)
    etag = fast.get(path + query).headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        flask_requests.clear()
        mine = fast.get(path + query, headers={"If-None-Match": sent})
        assert flask_requests == [], sent
        theirs = route.get(path + query, headers={"If-None-Match": sent})
        assert mine.status_code == theirs.status_code == 304, sent
        assert mine.data == b"" and "X-Request-ID" in mine.headers
        _same(mine, theirs)
    other = fast.get(path + query, headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.headers["ETag"] == etag


@pytest.mark.parametrize("kind", KINDS)
def test_after_a_write_the_route_answers_the_miss_with_fresh_data(app, kind, flask_requests):
    path, _, query, write, shows = LISTS[kind]
    _seed(app, kind)
    fast, _ = _clients(app)
    before = fast.get(path + query)
    assert fast.get(path + query).data == before.data
    assert not shows(json.loads(before.data))
    with app.app_context():
        _elsewhere(write)  # committed on another connection: a token changes
    flask_requests.clear()
    after = fast.get(path + query, headers={"If-None-Match": before.headers["ETag"]})
    assert flask_requests == [path]  # the miss is the route's
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert shows(json.loads(after.data)), after.data
    hit = fast.get(path + query)  # stored by the route: the fast path's again
    assert flask_requests == [path] and hit.data == after.data


def test_a_segments_candidates_are_always_the_routes(app, flask_requests):
    _seed(app, "candidates")
    with app.app_context():
        segment = make_segments(1)[0]
        first = db.session.scalars(select(Segment.id)).first()
        assert first == segment.id
        _elsewhere(
            "INSERT INTO candidate_segments (model_id, candidate_id, segment_id) SELECT :m, id, :s "
            "FROM candidates ORDER BY id LIMIT 2",
            m=segment.model_id,
            s=segment.id,
        )
        db.session.remove()
    fast, route = _clients(app)
    url = f"/api/v1/candidates?segment_id={segment.id}"
    flask_requests.clear()
    answers = [fast.get(url) for _ in range(3)]
    assert flask_requests == ["/api/v1/candidates"] * 3
    assert {json.loads(a.data)["total"] for a in answers} == {2} and "ETag" not in answers[-1].headers
    _same(answers[-1], route.get(url))


@pytest.mark.parametrize(
    "query",
    [
        "group_by=campaign",
        "group_by=platform&campaign_id=1",
        "group_by=segment",
        "group_by=platform&category=ventas",
        "group_by=platform&group_by=campaign",
        "group_by=day,campaign",
    ],
)
def test_reports_outside_the_day_totals_are_always_the_routes(app, flask_requests, query):
    _seed(app, "report")
    fast, route = _clients(app)
    url = f"/api/v1/reports/performance?{query}"
    flask_requests.clear()
    mine = [fast.get(url) for _ in range(2)]
    assert flask_requests == ["/api/v1/reports/performance"] * 2
    assert mine[1].status_code == 200 and "ETag" not in mine[1].headers
    _same(mine[1], route.get(url))


def test_a_report_kept_today_is_not_served_tomorrow(app, flask_requests, monkeypatch):
    _seed(app, "report")
    fast, _ = _clients(app)
    url = "/api/v1/reports/performance"
    first = fast.get(url)
    with app.app_context():
        assert json.loads(first.data)["until"] == today().isoformat()
        tomorrow = today() + timedelta(days=1)  # midnight in Bogotá has passed
    flask_requests.clear()
    assert fast.get(url).data == first.data and flask_requests == []  # a hit, before Flask
    monkeypatch.setattr("adflux.api.reports.today", lambda *_: tomorrow)
    monkeypatch.setattr("adflux.services.reports.today", lambda: tomorrow)
    after = fast.get(url)
    assert flask_requests == [url] and json.loads(after.data)["until"] == tomorrow.isoformat()
    assert after.headers["ETag"] != first.headers["ETag"]
    assert fast.get(url).data == after.data and flask_requests == [url]


def test_a_caller_over_its_rate_limit_is_counted_once(settings, app):  # type: ignore[no-untyped-def]
    limited = create_app(settings.replace(api_rate_limit_per_minute=3))
    requests: list[str] = []

    def record(sender: Flask, **extra: object) -> None:
        requests.append("flask")

    request_started.connect(record, limited)
    try:
        _seed(limited, "candidates")
        fast, _ = _clients(limited)  # one call counted by the route
        assert fast.get("/api/v1/candidates").status_code == 200  # the miss: the route counts it
        counted: list[str] = []
        with limited.app_context():
            counter = rate_limits.store(current_settings(limited))
        window_hit = counter.window_hit

        def counting(key, *args):  # type: ignore[no-untyped-def]  # the real store, each count recorded
            counted.append(key)
            return window_hit(key, *args)

        counter.window_hit = counting  # type: ignore[method-assign]
        requests.clear()
        try:
            answers = [fast.get("/api/v1/candidates") for _ in range(3)]
        finally:
            counter.window_hit = window_hit  # type: ignore[method-assign]
        assert [a.status_code for a in answers] == [200, 429, 429]
        assert answers[0].headers["ETag"] and answers[2].headers["Retry-After"]
        assert requests == ["flask", "flask"]  # the hit before Flask, the refusals by the route
        assert len(counted) == 3 and len(set(counted)) == 1  # each call counted once
    finally:
        request_started.disconnect(record, limited)
        limited.extensions[fast_path.EXTENSION].close()
        with limited.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_callers_and_queries_the_fast_path_does_not_take_get_the_routes_answer(
    app, anon_client, kind, flask_requests
):
    path, _, query, _, _ = LISTS[kind]
    _seed(app, kind)
    fast, route = _clients(app)
    assert fast.get(path + query).status_code == 200  # stored: each below would be a hit
    assert fast.get(path).status_code == 200
    token = fast.environ_base["HTTP_AUTHORIZATION"].split()[1]
    guest, guest_route = _clients(app, "guest")  # a role below viewer: known to this process
    for client, route_side, url, headers, status in (
        (anon_client, route_client(app), path, {}, 401),
        (anon_client, route_client(app), path, {"Authorization": "Bearer adf_nothing_real"}, 401),
        (anon_client, route_client(app), path, {"Authorization": f"Basic {token}"}, 401),
        (guest, guest_route, path + query, {}, 403),
        (fast, route, path + "?page_size=%32", {}, 200),  # Werkzeug decodes it: the route's hit
        (fast, route, path + "?page_size=2&x=%00", {}, 422),  # a NUL: the route's guard
        (fast, route, path + query + "&", {}, 200),
        (fast, route, path + "?page_size=2;x=1", {}, None),
        (fast, route, path + "?Page_size=2", {}, None),  # plain, but never stored: the route's miss
        (fast, route, path + "?page_size=+2", {}, None),
    ):
        flask_requests.clear()
        mine = client.get(url, headers=headers)
        assert flask_requests == [path], url  # the route answered
        assert status is None or mine.status_code == status, (url, mine.data)
        _same(mine, route_side.get(url, headers=headers))
    # A body (the route's guards read it): the route's answer too.
    flask_requests.clear()
    sent = fast.get(path + query, data={"nota": "a\x00b"})
    assert flask_requests == [path] and sent.status_code == 422


@pytest.mark.parametrize("kind", KINDS)
def test_metrics_and_the_access_line_are_recorded_as_by_the_route(app, kind, flask_requests):
    path, endpoint, query, _, _ = LISTS[kind]
    _seed(app, kind)
    fast, route = _clients(app)
    assert fast.get(path + query).status_code == 200  # stored
    labels = {"method": "GET", "route": path}
    stats = app.extensions["adflux_request_stats"]

    def sample(name: str, **extra: str) -> float:
        return REGISTRY.get_sample_value(name, extra) or 0.0

    with captured_access_lines() as lines:
        for client, request_id in ((fast, "fast-1"), (route, "route-1")):
            flask_requests.clear()
            hits = sample("adflux_response_cache_lookups_total", endpoint=endpoint, outcome="hit")
            counted = sample("adflux_http_requests_total", **labels, status="200")
            timed = sample("adflux_http_request_duration_seconds_count", **labels)
            window = sum(sums[0] for key, sums in stats.pending.items() if key[1] == f"GET {path}")
            assert client.get(path + query, headers={"X-Request-ID": request_id}).status_code == 200
            assert (flask_requests == []) == (client is fast)
            assert sample("adflux_response_cache_lookups_total", endpoint=endpoint, outcome="hit") == hits + 1
            assert sample("adflux_http_requests_total", **labels, status="200") == counted + 1
            assert sample("adflux_http_request_duration_seconds_count", **labels) == timed + 1
            after = sum(sums[0] for key, sums in stats.pending.items() if key[1] == f"GET {path}")
            assert after == window + 1
    mine, theirs = lines
    assert mine["request_id"] == "fast-1" and theirs["request_id"] == "route-1"
    for line in (mine, theirs):
        del line["request_id"], line["duration_ms"], line["ts"]
    assert mine == theirs and mine["message"] == f"GET {path} 200" and mine["route"] == path


def test_with_the_cache_off_only_the_job_list_has_a_fast_path(app, settings):  # type: ignore[no-untyped-def]
    uncached = create_app(settings.replace(response_cache_entries=0))
    try:
        assert set(uncached.extensions[fast_path.EXTENSION].handlers) <= {"/api/v1/jobs"}
        handlers = app.extensions[fast_path.EXTENSION].handlers
        assert {path for path, *_ in LISTS.values()} <= set(handlers)
        assert handlers["/api/v1/campaigns"].names == ("campaigns", "job_openings")  # the route's tables
        assert {handlers[path].role for path, *_ in LISTS.values()} == {"viewer"}
    finally:
        uncached.extensions[fast_path.EXTENSION].close()
        with uncached.app_context():
            db.engine.dispose()
