"""The candidate list and the day/platform report answer again from the cache only while their
data is unchanged, whoever wrote; what reads tables without a token is never cached."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from adflux.extensions import db
from adflux.services.local_dates import today
from factories import make_candidate, make_job, make_segments


def _elsewhere(*sql: str, **params: object) -> None:
    """Write on a connection of its own: another worker, the CLI, the metrics sync."""
    with db.engine.connect() as other:
        for statement in sql:
            other.execute(text(statement), params)
        other.commit()


# ---- candidates -------------------------------------------------------------------------------------


def test_the_candidate_list_is_answered_again_without_reading_candidates(client, app_ctx, statements):
    for _ in range(3):
        make_candidate()
    first = client.get("/api/v1/candidates?page_size=2")
    statements.clear()
    again = client.get("/api/v1/candidates?page_size=2")
    assert first.status_code == again.status_code == 200
    assert again.data == first.data and again.get_json()["total"] == 3
    assert [s for s in statements if "candidates" in s] == []
    assert again.headers["ETag"] == first.headers["ETag"]
    unchanged = client.get("/api/v1/candidates?page_size=2", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304


@pytest.mark.parametrize(
    "statement",
    ["UPDATE candidates SET city = 'Pasto', department = 'Nariño'", "DELETE FROM candidates"],
)
def test_a_candidate_written_by_anyone_shows_in_the_next_answer(client, app_ctx, statement):
    make_candidate(city="Cali", department="Valle del Cauca")
    before = client.get("/api/v1/candidates")
    assert before.get_json()["items"][0]["city"] == "Cali"
    _elsewhere(statement)
    after = client.get("/api/v1/candidates")
    assert after.headers["ETag"] != before.headers["ETag"]
    if statement.startswith("DELETE"):
        assert after.get_json()["total"] == 0
    else:
        assert after.get_json()["items"][0]["city"] == "Pasto"
    created = client.post("/api/v1/candidates", json={**_candidate_body(), "city": "Tunja"})
    assert created.status_code == 201
    listed = client.get("/api/v1/candidates").get_json()
    assert "Tunja" in {item["city"] for item in listed["items"]}
    assert listed["total"] == (1 if statement.startswith("DELETE") else 2)


def _candidate_body() -> dict[str, object]:
    from factories import candidate_data

    return candidate_data()


def test_a_segments_members_are_never_served_from_the_cache(client, app_ctx, statements):
    # Membership lives in candidate_segments, which has no token (assignments are bulk-written).
    first, second = make_candidate(), make_candidate()
    segment = make_segments(1)[0]
    add = "INSERT INTO candidate_segments (model_id, candidate_id, segment_id) VALUES (:m, :c, :s)"
    _elsewhere(add, m=segment.model_id, c=first.id, s=segment.id)
    url = f"/api/v1/candidates?segment_id={segment.id}"
    one = client.get(url)
    assert one.status_code == 200 and one.get_json()["total"] == 1 and "ETag" not in one.headers
    _elsewhere(add, m=segment.model_id, c=second.id, s=segment.id)
    statements.clear()
    two = client.get(url)
    assert two.get_json()["total"] == 2 and "ETag" not in two.headers
    assert any("candidate_segments" in s for s in statements)


# ---- the performance report -------------------------------------------------------------------------

_TOTAL = (
    "INSERT INTO daily_metric_totals (date, platform, impressions, reach, clicks, engagements, "
    "spend_micros, applications, campaigns) VALUES (:day, :platform, :n, :n, 10, NULL, 5000000, 2, 1)"
)


def test_the_report_by_platform_is_answered_again_until_a_total_changes(client, app_ctx, statements):
    day = today() - timedelta(days=1)
    _elsewhere(_TOTAL, day=day, platform="meta", n=1000)
    url = "/api/v1/reports/performance?group_by=platform"
    first = client.get(url)
    assert first.status_code == 200 and first.get_json()["totals"]["impressions"] == 1000
    statements.clear()
    again = client.get(url)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert [s for s in statements if "daily_metric_totals" in s] == []

    # The metrics sync (another process) refreshes the totals: the next answer has them.
    _elsewhere("UPDATE daily_metric_totals SET impressions = 4000")
    _elsewhere(_TOTAL, day=day, platform="google", n=500)
    after = client.get(url).get_json()
    assert after["totals"]["impressions"] == 4500
    assert {row["platform"] for row in after["rows"]} == {"meta", "google"}
    by_day = client.get("/api/v1/reports/performance?group_by=day,platform&platform=google").get_json()
    assert [row["impressions"] for row in by_day["rows"]] == [500]


@pytest.mark.parametrize(
    "query",
    [
        "group_by=campaign",
        "group_by=platform&campaign_id=1",
        "group_by=segment",
        "group_by=platform&category=ventas",
        "group_by=platform&group_by=campaign",
    ],
)
def test_reports_from_tables_without_a_token_are_never_cached(client, app_ctx, query):
    response = client.get(f"/api/v1/reports/performance?{query}")
    assert response.status_code == 200 and "ETag" not in response.headers


def test_a_cached_report_is_not_served_on_the_next_day(client, app_ctx, monkeypatch):
    # The default window ends today: tomorrow the same URL is another report.
    url = "/api/v1/reports/performance"
    first = client.get(url).get_json()
    assert first["until"] == today().isoformat()
    tomorrow = today() + timedelta(days=1)
    monkeypatch.setattr("adflux.api.reports.today", lambda *_: tomorrow)
    monkeypatch.setattr("adflux.services.reports.today", lambda: tomorrow)
    assert client.get(url).get_json()["until"] == tomorrow.isoformat()


def test_refused_report_requests_are_not_kept(client, app_ctx):
    assert client.get("/api/v1/reports/performance?since=2030-01-02&until=2030-01-01").status_code == 422
    assert client.get("/api/v1/reports/performance?since=2030-01-02&until=2030-01-01").status_code == 422
    assert client.get(f"/api/v1/reports/performance?until={date(2030, 1, 1)}").status_code == 200


# ---- the token read itself (libpq, prepared once per connection) ------------------------------------


def test_tokens_read_through_libpq_leave_the_connection_as_psycopg_expects(app_ctx):
    import psycopg

    from adflux.services import data_versions

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the libpq path is psycopg's")
    make_candidate()
    make_job()
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        first = data_versions._read_on_libpq(driver, raw.info, ("candidates", "job_openings"))
        assert dict(first).keys() == {"candidates", "job_openings"}
        assert data_versions._read_on_libpq(driver, raw.info, ("candidates", "job_openings")) == first
        # psycopg still sees an idle connection: a transaction of its own works as before.
        with driver.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM candidates")
            assert cursor.fetchone() == (1,)
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        # Inside that transaction the libpq path refuses (the caller discards the connection).
        with pytest.raises(psycopg.OperationalError):
            data_versions._read_on_libpq(driver, raw.info, ("candidates",))
        driver.rollback()
        # psycopg sends DEALLOCATE ALL after a DROP or ALTER: the statement is prepared again.
        driver.autocommit = True
        driver.execute("DEALLOCATE ALL")
        assert data_versions._read_on_libpq(driver, raw.info, ("candidates", "job_openings")) == first
        driver.execute("PREPARE adflux_data_versions_1 AS SELECT 1/0, 'x'")  # a name taken: refused
        with pytest.raises(psycopg.OperationalError):
            data_versions._read_on_libpq(driver, raw.info, ("candidates",))
    finally:
        raw.invalidate()
        raw.close()
    assert data_versions.read_tokens(("candidates",)) == {"candidates": dict(first)["candidates"]}


def test_under_concurrent_writes_no_answer_is_older_than_the_last_commit_before_it(client, app_ctx):
    """A writer commits 1, 2, 3, ... on its own connection while requests are answered: each answer
    shows at least the value committed before its request began (never a stale cached answer)."""
    import threading

    person_id = make_candidate(years_experience=0, expected_salary=0).id
    committed = {"value": 0}
    stop = threading.Event()
    engine = create_engine(db.engine.url)  # another process's connection, no app of its own

    def write() -> None:
        with engine.connect() as other:
            value = 0
            # Until the reader has its answers (a cap only against a reader that never comes): a
            # fixed count of commits could end before 20 requests on a fast SQLite.
            while not stop.is_set() and value < 20_000:
                value += 1
                other.execute(
                    text("UPDATE candidates SET years_experience = :v WHERE id = :id"),
                    {"v": value % 60, "id": person_id},
                )
                other.execute(
                    text("UPDATE candidates SET expected_salary = :v WHERE id = :id"),
                    {"v": value, "id": person_id},
                )
                other.commit()
                committed["value"] = value

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[int] = []
    try:
        while writer.is_alive() and len(seen) < 100:
            floor = committed["value"]
            response = client.get("/api/v1/candidates")
            (item,) = response.get_json()["items"]
            assert item["expected_salary"] >= floor, (item["expected_salary"], floor)
            seen.append(item["expected_salary"])
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert len(seen) > 20 and seen == sorted(seen)
    final = client.get("/api/v1/candidates").get_json()["items"][0]["expected_salary"]
    assert final == committed["value"]
