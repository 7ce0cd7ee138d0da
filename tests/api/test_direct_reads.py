"""Statements run on the driver's connection read what Session.execute reads, and stay observable."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Integer, bindparam, event, literal, select
from sqlalchemy.exc import DBAPIError

from adflux.extensions import db
from adflux.models import PlatformCampaign
from adflux.services import campaigns as campaigns_service
from adflux.services import direct_reads
from factories import make_candidate, make_job, make_segments


def _campaign_with_varied_values() -> int:
    job = make_job()
    segments = make_segments(2)
    created = campaigns_service.create_campaign(
        job_id=job.id,
        platforms=["meta", "google", "x"],
        budget_total=7_000_001,
        segment_ids=[s.id for s in segments],
        weights={"meta": 1.5, "google": 1, "x": 0.25},
        name='Oferta «Cartagena» \\ "ñ"\n\t',
    )
    pcs = db.session.scalars(
        select(PlatformCampaign)
        .where(PlatformCampaign.campaign_id == created.id)
        .order_by(PlatformCampaign.id)
    ).all()
    pcs[0].published_at = dt.datetime(2026, 12, 6, 23, 5, 12, 120000, tzinfo=dt.UTC)
    pcs[0].external_ids = {"campaign": "120", "ad_groups": {"7": "a-9", "10": None}, "z": [1, 2.5]}
    pcs[1].published_at = dt.datetime(2026, 12, 6, 23, 5, 12, tzinfo=dt.UTC)  # no microseconds
    pcs[1].last_error = "límite diario\u2028agotado"
    db.session.commit()
    return created.id


def test_rows_are_what_session_execute_returns(app_ctx):
    _campaign_with_varied_values()
    stmt = (
        select(PlatformCampaign.id, PlatformCampaign.external_ids, PlatformCampaign.budget_weight)
        .add_columns(PlatformCampaign.published_at, PlatformCampaign.created_at)
        .where(PlatformCampaign.budget_total > bindparam("least", type_=Integer))
        .order_by(PlatformCampaign.id)
    )
    expected = [tuple(row) for row in db.session.execute(stmt, {"least": 0})]
    keys, rows = direct_reads.rows(stmt, {"least": 0})
    assert keys == ("id", "external_ids", "budget_weight", "published_at", "created_at")
    assert [tuple(row) for row in rows] == expected
    assert len(expected) == 3
    published = [row[3] for row in rows]
    assert published[0] == dt.datetime(2026, 12, 6, 23, 5, 12, 120000, tzinfo=dt.UTC)
    assert published[0].utcoffset() == dt.timedelta(0) and published[2] is None
    assert direct_reads.dicts(stmt, {"least": 2_000_000_000}) == []


def test_the_engine_events_still_see_each_statement(app_ctx):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    stmt = select(literal(1, Integer).label("one"))
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert direct_reads.rows(stmt)[1] == [(1,)]
        assert direct_reads.rows(stmt)[1] == [(1,)]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 2 and "SELECT" in seen[0]


def test_a_database_error_is_sqlalchemys_and_the_session_recovers(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite divides by zero without an error; other databases take Session.execute")
    stmt = select((literal(1, Integer) / bindparam("zero", type_=Integer)).label("x"))
    with pytest.raises(DBAPIError):
        direct_reads.rows(stmt, {"zero": 0})
    db.session.rollback()
    assert direct_reads.rows(stmt, {"zero": 1})[1] == [(1,)]


def test_the_campaign_list_equals_each_campaign_read_on_its_own(client, app_ctx):
    """Varied values (escapes, line separators, floats, times with and without microseconds,
    nested external ids): every list order and filter gives each campaign as its detail does."""
    first = _campaign_with_varied_values()
    job = make_job(title="Analista de datos")
    client.post(
        "/api/v1/campaigns", json={"job_id": job.id, "platforms": ["tiktok"], "budget_total": 2_000_000}
    )
    details = {}
    for url in (
        "/api/v1/campaigns",
        "/api/v1/campaigns?sort=name&descending=false",
        "/api/v1/campaigns?sort=spend",
        "/api/v1/campaigns?sort=budget&descending=false",
        "/api/v1/campaigns?status=draft",
        f"/api/v1/campaigns?job_id={job.id}",
        "/api/v1/campaigns?q=analista",
        "/api/v1/campaigns?page=2&page_size=1",
    ):
        page = client.get(url).get_json()
        assert page["items"], url
        for item in page["items"]:
            if item["id"] not in details:
                details[item["id"]] = client.get(f"/api/v1/campaigns/{item['id']}").get_json()
                details[item["id"]].pop("segment_ids")
            assert item == details[item["id"]], url
    assert client.get("/api/v1/campaigns?page=2&page_size=1").get_json()["total"] == 2
    by_job = client.get(f"/api/v1/campaigns?job_id={job.id}").get_json()
    assert (by_job["total"], [c["job_id"] for c in by_job["items"]]) == (1, [job.id])
    past_end = client.get("/api/v1/campaigns?status=draft&page=9").get_json()
    assert (past_end["items"], past_end["total"]) == ([], 2)
    none_live = client.get("/api/v1/campaigns?status=active").get_json()
    assert (none_live["items"], none_live["total"]) == ([], 0)
    listed = client.get("/api/v1/campaigns?sort=budget").get_json()["items"]
    assert listed[0]["id"] == first
    weights = sorted(p["budget_weight"] for p in listed[0]["platform_campaigns"])
    assert weights == [0.25, 1.0, 1.5]


@pytest.mark.parametrize(
    ("query", "page", "items", "statements"),
    [
        ("category=ventas&page_size=2", 1, 2, 1),  # the page and its total in one statement
        ("category=ventas&page_size=2", 3, 1, 1),
        ("category=ventas&page_size=2", 4, 0, 2),  # past the end: a COUNT follows
        ("category=ventas&modality=remoto&page_size=10", 1, 2, 1),
        ("status=closed", 1, 0, 1),
        ("status=open&category=ventas&modality=presencial", 1, 3, 1),
    ],
)
def test_the_prepared_job_list_pages_and_counts_exactly(
    client, app_ctx, job_statements, monkeypatch, query, page, items, statements
):
    from adflux.api import response_cache

    monkeypatch.delitem(app_ctx.extensions, response_cache.EXTENSION, raising=False)  # build every page
    for i in range(5):
        make_job(category="ventas", modality="remoto" if i < 2 else "presencial", title=f"Vendedor {i}")
    make_job(category="salud", modality="presencial", title="Enfermera")
    job_statements.clear()
    body = client.get(f"/api/v1/jobs?{query}&page={page}").get_json()
    totals = {"category=ventas&page_size=2": 5, "status=closed": 0}
    total = totals.get(query, 2 if "remoto" in query else 3)
    assert (body["total"], len(body["items"])) == (total, items)
    assert len(job_statements) == statements
    for item in body["items"]:
        assert item == client.get(f"/api/v1/jobs/{item['id']}").get_json()


def test_the_prepared_job_list_counts_again_only_when_job_openings_changed(client, app_ctx, monkeypatch):
    from adflux.api import response_cache
    from adflux.services import versioned_counts

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the count is skipped on PostgreSQL only (a CASE over the token)")
    monkeypatch.delitem(app_ctx.extensions, response_cache.EXTENSION, raising=False)  # build every page
    for i in range(3):
        make_job(category="logistica_transporte", title=f"Auxiliar {i}")
    path = "/api/v1/jobs?category=logistica_transporte&page_size=2"
    assert client.get(path).get_json()["total"] == 3
    key = ("job_openings", ("jobs", None, None, "logistica_transporte", None, None))
    known = versioned_counts.known(key)
    assert known is not None and known.total == 3
    versioned_counts.remember(key, known.token, 99, False)  # plant a total under the same token
    assert client.get(path).get_json()["total"] == 99  # same token: the count did not run
    with db.engine.connect() as other:  # another writer moves the token
        other.execute(
            db.text("UPDATE job_openings SET title = title || '.' WHERE category = 'logistica_transporte'")
        )
        other.commit()
    assert client.get(path).get_json()["total"] == 3
    make_job(category="logistica_transporte", title="Auxiliar 3")
    body = client.get(path).get_json()
    assert (body["total"], body["pages"], len(body["items"])) == (4, 2, 2)
    assert (
        client.get("/api/v1/jobs?category=logistica_transporte&page=3&page_size=2").get_json()["total"] == 4
    )


def test_the_prepared_candidate_list_walks_by_cursor_and_counts_exactly(client, app_ctx):
    for n in range(7):
        make_candidate(
            desired_category="ventas" if n % 2 else "salud", city="Cali", department="Valle del Cauca"
        )
    seen: list[int] = []
    body = client.get("/api/v1/candidates?page_size=2&desired_category=ventas").get_json()
    assert (body["page"], body["total"], body["total_estimated"]) == (1, 3, False)
    while True:
        seen.extend(item["id"] for item in body["items"])
        for item in body["items"]:
            assert item == client.get(f"/api/v1/candidates/{item['id']}").get_json()
        if not body["next_cursor"]:
            break
        body = client.get(
            f"/api/v1/candidates?page_size=2&desired_category=ventas&cursor={body['next_cursor']}"
        )
        body = body.get_json()
        assert (body["page"], body["total"]) == (None, 3)
    assert seen == sorted(seen) and len(set(seen)) == 3
    everyone = client.get("/api/v1/candidates?page_size=7").get_json()
    assert (everyone["total"], everyone["next_cursor"] is not None, len(everyone["items"])) == (7, True, 7)
    past_end = client.get(f"/api/v1/candidates?page_size=7&cursor={everyone['next_cursor']}").get_json()
    assert (past_end["items"], past_end["total"], past_end["next_cursor"]) == ([], 7, None)
    assert client.get("/api/v1/candidates?page=3&page_size=5").get_json()["total"] == 7
    make_candidate(desired_category="ventas", city="Pasto", department="Nariño")
    assert client.get("/api/v1/candidates?desired_category=ventas").get_json()["total"] == 4
