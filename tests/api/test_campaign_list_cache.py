"""The campaign list answers again from the cache only while every table it reads is unchanged,
whoever wrote; its tokens change at commit, so writers of campaigns never wait on each other's
open transactions (models/versions.py, AT_COMMIT_TABLES)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from adflux.extensions import db
from adflux.models import Segment
from adflux.models.versions import AT_COMMIT_TABLES, initial_token_statement
from adflux.services import campaigns as campaigns_service
from adflux.services import data_versions
from factories import make_job, make_segments

URL = "/api/v1/campaigns"
LISTED = ("campaigns", "job_openings")  # the tokens (campaigns: the four campaign tables')


@pytest.fixture(autouse=True)
def _first_tokens(app_ctx):
    """Every token the list reads exists, as after the migrations (`create_all` gives none, and
    between tests SQLite's clean-up deletes them with the rows; a token appears at the first write)."""
    dialect = db.engine.dialect.name
    _elsewhere(*(statement for t in LISTED if (statement := initial_token_statement(dialect, t))))


def _elsewhere(*sql: str, **params: object) -> None:
    """Write on a connection of its own: a publishing worker, the CLI, the metrics sync."""
    with db.engine.connect() as other:
        for statement in sql:
            other.execute(text(statement), params)
        other.commit()


def _campaign(platforms: tuple[str, ...] = ("meta", "google")) -> int:
    job = make_job(title="Auxiliar de bodega", city="Cali")
    segment_ids = list(db.session.scalars(select(Segment.id).order_by(Segment.id)))
    segment_ids = segment_ids or [s.id for s in make_segments(2)]
    created = campaigns_service.create_campaign(
        job_id=job.id, platforms=list(platforms), budget_total=3_000_000, segment_ids=segment_ids
    )
    return created.id


def _tokens() -> dict[str, str]:
    found = data_versions.read_tokens(LISTED)
    assert found is not None
    return found


def test_the_campaign_list_is_answered_again_without_reading_its_tables(client, app_ctx, statements):
    _campaign()
    first = client.get(f"{URL}?page_size=5")
    assert first.status_code == 200 and first.get_json()["total"] == 1
    assert len(first.get_json()["items"][0]["platform_campaigns"]) == 2
    statements.clear()
    again = client.get(f"{URL}?page_size=5")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert [s for s in statements if "campaigns" in s or "ad_groups" in s] == []
    unchanged = client.get(f"{URL}?page_size=5", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    # Another query string is another answer.
    assert client.get(f"{URL}?status=active").get_json()["total"] == 0
    assert client.get(f"{URL}?status=live").status_code == 422  # refused, and not kept


_TOTALS = (
    "INSERT INTO campaign_metric_totals (campaign_id, impressions, reach, clicks, spend_micros, "
    "applications) SELECT id, 100, 90, 10, id * 1000000, 4 FROM campaigns"
)

# table -> (a write to it, the list URL that shows it, what the answer's items show after it)
_WRITES = {
    "campaigns": (
        "UPDATE campaigns SET name = 'Renombrada'",
        URL,
        lambda items: items[0]["name"] == "Renombrada",
    ),
    "platform_campaigns": (
        "UPDATE platform_campaigns SET status = 'failed', last_error = 'cuota'",
        URL,
        lambda items: {p["status"] for p in items[0]["platform_campaigns"]} == {"failed"},
    ),
    "ad_groups": (
        "UPDATE ad_groups SET budget_daily = 777",
        URL,
        lambda items: (
            {g["budget_daily"] for p in items[0]["platform_campaigns"] for g in p["ad_groups"]} == {777}
        ),
    ),
    # The list shows no results, but orders by them: the first campaign has the least spend.
    "campaign_metric_totals": (
        _TOTALS,
        f"{URL}?sort=spend&descending=false",
        lambda items: items[0]["id"] == 1,
    ),
    # The page is joined to its jobs (no job field is shown today): a new answer all the same.
    "job_openings": ("UPDATE job_openings SET title = 'Cajero'", URL, None),
}


@pytest.mark.parametrize("table", list(_WRITES))
def test_a_write_to_any_listed_table_by_anyone_shows_in_the_next_answer(client, app_ctx, table):
    assert (_campaign(), _campaign(("x",))) == (1, 2)
    statement, url, shows = _WRITES[table]
    before = client.get(url)
    assert before.status_code == 200 and (shows is None or not shows(before.get_json()["items"]))
    assert client.get(url).headers["ETag"] == before.headers["ETag"]  # answered from the cache
    tokens = _tokens()
    _elsewhere(statement)
    changed = {name for name, token in _tokens().items() if token != tokens[name]}
    assert AT_COMMIT_TABLES.get(table, table) in changed
    after = client.get(url)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert shows is None or shows(after.get_json()["items"]), after.get_json()


def test_deleted_and_truncated_campaigns_leave_the_next_answer(client, app_ctx):
    _campaign()
    _campaign(("x",))
    assert client.get(URL).get_json()["total"] == 2
    _elsewhere("DELETE FROM campaigns WHERE id = (SELECT min(id) FROM campaigns)")
    assert client.get(URL).get_json()["total"] == 1
    if db.engine.dialect.name == "postgresql":
        _elsewhere("TRUNCATE campaigns CASCADE")
    else:
        _elsewhere(
            *(
                f"DELETE FROM {t}"
                for t in ("ad_groups", "platform_campaigns", "campaign_segments", "campaigns")
            )
        )
    emptied = client.get(URL).get_json()
    assert (emptied["total"], emptied["items"]) == (0, [])
    # Through the API (the ORM) as well.
    created = _campaign()
    listed = client.get(URL).get_json()
    assert [item["id"] for item in listed["items"]] == [created]


def test_a_write_undone_by_its_savepoint_changes_nothing_and_the_next_write_counts(client, app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the once-per-transaction flag is PostgreSQL's")
    _campaign()
    client.get(URL)
    tokens = _tokens()
    with db.engine.connect() as other:
        other.execute(text("SAVEPOINT s"))
        other.execute(text("UPDATE campaigns SET name = 'Deshecha'"))
        other.execute(text("ROLLBACK TO SAVEPOINT s"))
        other.commit()
    assert _tokens() == tokens  # nothing written: nothing to answer anew
    with db.engine.connect() as other:
        other.execute(text("SAVEPOINT s"))
        other.execute(text("UPDATE campaigns SET name = 'Deshecha'"))
        other.execute(text("ROLLBACK TO SAVEPOINT s"))  # the flag goes with the savepoint...
        other.execute(text("UPDATE campaigns SET budget_total = 4000000"))  # ...so this one is queued
        other.commit()
    assert _tokens()["campaigns"] != tokens["campaigns"]
    (item,) = client.get(URL).get_json()["items"]
    assert (item["name"], item["budget_total"]) != ("Deshecha", 3_000_000)
    assert item["budget_total"] == 4_000_000


def test_writers_of_campaigns_do_not_wait_on_each_others_open_transactions(client, app_ctx):
    """One publisher holds its transaction open (a platform call in flight) with flushed writes to
    every listed campaign table; another commits its own campaign's writes at once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    first, second = _campaign(), _campaign(("x",))
    before = client.get(URL)

    def _ids(url: str) -> list[int]:
        return [item["id"] for item in client.get(url).get_json()["items"]]

    assert _ids(f"{URL}?sort=spend&descending=false") == [second, first]
    engine = create_engine(db.engine.url)
    writes = (
        "UPDATE campaigns SET status = 'publishing' WHERE id = :id",
        "UPDATE platform_campaigns SET attempts = attempts + 1 WHERE campaign_id = :id",
        "UPDATE ad_groups SET status = 'active' WHERE platform_campaign_id IN "
        "(SELECT id FROM platform_campaigns WHERE campaign_id = :id)",
        "INSERT INTO campaign_metric_totals (campaign_id, impressions, reach, clicks, spend_micros, "
        "applications) VALUES (:id, 1, 1, 1, 1000000, 1)",
    )
    try:
        with engine.connect() as holder, engine.connect() as other:
            for statement in writes:
                holder.execute(text(statement), {"id": first})
            # Readers meanwhile: the last committed state, from the cache.
            during = client.get(URL)
            assert during.data == before.data and during.headers["ETag"] == before.headers["ETag"]
            # The second writer must not wait on the first: it would time out on a token row lock.
            other.execute(text("SET lock_timeout = '2s'"))
            started = time.perf_counter()
            for statement in writes:
                other.execute(text(statement), {"id": second})
            other.commit()
            assert time.perf_counter() - started < 1.5
            answer = {c["id"]: c for c in client.get(URL).get_json()["items"]}
            assert (answer[second]["status"], answer[first]["status"]) == ("publishing", "draft")
            assert _ids(f"{URL}?sort=spend&descending=false") == [first, second]  # second's spend only
            holder.commit()
        answer = {c["id"]: c for c in client.get(URL).get_json()["items"]}
        assert answer[first]["status"] == "publishing"
        assert {p["attempts"] for p in answer[first]["platform_campaigns"]} == {1}
        assert _ids(f"{URL}?sort=spend&descending=false") == [second, first]  # equal: newest first
    finally:
        engine.dispose()


def test_commits_that_wrote_the_campaign_tables_in_opposite_orders_do_not_deadlock(app_ctx):
    """The four tables share one token, so a commit locks one token row: two commits that wrote
    campaigns and ad groups in opposite orders, released together, both go through."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    first, second = _campaign(), _campaign(("x",))
    engine = create_engine(db.engine.url)
    campaign = "UPDATE campaigns SET budget_total = budget_total + 1 WHERE id = :id"
    groups = (
        "UPDATE ad_groups SET budget_daily = 5 WHERE platform_campaign_id IN "
        "(SELECT id FROM platform_campaigns WHERE campaign_id = :id)"
    )
    errors: list[BaseException] = []

    def commit(order: tuple[str, str], campaign_id: int) -> None:
        try:
            with engine.connect() as conn:
                for statement in order:
                    conn.execute(text(statement), {"id": campaign_id})
                conn.commit()  # waits on the token row while `blocker` holds it
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    try:
        with engine.connect() as blocker:
            blocker.execute(text("UPDATE data_versions SET token = token WHERE name = 'campaigns'"))
            threads = [
                threading.Thread(target=commit, args=((campaign, groups), first)),
                threading.Thread(target=commit, args=((groups, campaign), second)),
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)  # both are at their commits, waiting on the token row
            assert all(thread.is_alive() for thread in threads)
            blocker.commit()
            for thread in threads:
                thread.join(timeout=30)
        assert errors == []
        budgets = db.session.execute(
            text("SELECT budget_total FROM campaigns WHERE id IN (:a, :b)"), {"a": first, "b": second}
        )
        assert [row[0] for row in budgets] == [3_000_001, 3_000_001]
    finally:
        engine.dispose()


def test_under_concurrent_writes_no_answer_is_older_than_the_last_commit_before_it(client, app_ctx):
    """A writer commits 1, 2, 3, ... to each listed table in turn on its own connection while
    requests are answered: each answer shows at least what was committed before its request began."""
    rival = _campaign(("x",))
    campaign_id = _campaign(("meta",))
    _elsewhere(
        "INSERT INTO campaign_metric_totals (campaign_id, impressions, reach, clicks, spend_micros, "
        "applications) VALUES (:a, 0, 0, 0, 0, 0), (:b, 0, 0, 0, 300000000, 0)",
        a=campaign_id,
        b=rival,
    )
    # The list shows no spend, but orders by it: past 300 pesos the campaign leads the rival.
    url = f"{URL}?sort=spend"
    fields = ("budget_total", "pc_budget_total", "ad_group_budget", "spend")
    writes = (
        "UPDATE campaigns SET budget_total = :v WHERE id = :id",
        "UPDATE platform_campaigns SET budget_total = :v WHERE campaign_id = :id",
        "UPDATE ad_groups SET budget_daily = :v WHERE platform_campaign_id IN "
        "(SELECT id FROM platform_campaigns WHERE campaign_id = :id)",
        "UPDATE campaign_metric_totals SET spend_micros = (:v - 3000000) * 1000000 WHERE campaign_id = :id",
    )
    committed = dict.fromkeys(fields, 0)
    # SQLite's one writer (and the GIL) would otherwise leave the readers few turns.
    pause = 0.0 if db.engine.dialect.name == "postgresql" else 0.005
    stop = threading.Event()
    engine = create_engine(db.engine.url)  # another process's connection, no app of its own

    def write() -> None:
        with engine.connect() as other:
            value = 0
            # Until the readers have their answers (a cap only against a reader that never comes):
            # a fixed count of commits could end before 20 requests on a loaded machine.
            while not stop.is_set() and value < 20_000:
                value += 1
                turn = value % len(fields)
                # Above the budgets' first values (3,000,000); the spend is `value` pesos.
                other.execute(text(writes[turn]), {"v": 3_000_000 + value, "id": campaign_id})
                other.commit()
                committed[fields[turn]] = 3_000_000 + value
                time.sleep(pause)

    def seen(answer: dict) -> dict[str, int]:
        items = answer["items"]
        (item,) = [i for i in items if i["id"] == campaign_id]
        (pc,) = item["platform_campaigns"]
        return {
            "budget_total": item["budget_total"],
            "pc_budget_total": pc["budget_total"],
            "ad_group_budget": min(g["budget_daily"] or 0 for g in pc["ad_groups"]),
            "leads": int(items[0]["id"] == campaign_id),
        }

    writer = threading.Thread(target=write)
    writer.start()
    answers: list[dict[str, int]] = []
    try:
        while writer.is_alive() and len(answers) < 100:
            floor = dict(committed)
            values = seen(client.get(url).get_json())
            assert all(values[f] >= floor[f] for f in fields[:3]), (values, floor)
            assert values["leads"] >= int(floor["spend"] > 3_000_300), (values, floor)
            answers.append(values)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert len(answers) > 20
    for field in ("budget_total", "pc_budget_total", "ad_group_budget", "leads"):
        assert [a[field] for a in answers] == sorted(a[field] for a in answers)
    final = seen(client.get(url).get_json())
    assert final == {**{f: committed[f] for f in fields[:3]}, "leads": int(committed["spend"] > 3_000_300)}
