"""The campaign search: every word typed, accent- and case-blind, in the campaign's name or its
job's title or company. On PostgreSQL it matches `campaigns.search_text`, which triggers keep in
step with every writer (the ORM, bulk SQL); the answers must be those of folding per row."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from adflux.extensions import db
from adflux.models import Campaign, JobOpening
from adflux.services import campaigns as campaigns_service
from adflux.services.text_search import text_matches
from factories import make_job

QUERIES = ["enfermera", "ENFERMERÍA", "bogota salud", "Campaña", "clinica 7", "100%", "a_b", "nadie", "ñandú"]


def _found(q: str) -> list[int]:
    return [c.id for c in campaigns_service.list_campaigns(q=q, page_size=100).items]


def _folded_per_row(q: str) -> list[int]:
    """What the search answered before `search_text`: the three texts folded on every row."""
    stmt = (
        select(Campaign.id)
        .join(JobOpening, JobOpening.id == Campaign.job_id)
        .where(text_matches((Campaign.name, JobOpening.title, JobOpening.company), q))
        .order_by(Campaign.id.desc())
    )
    return list(db.session.scalars(stmt))


def _make(title: str, company: str, name: str | None = None) -> int:
    campaign = campaigns_service.create_campaign(
        job_id=make_job(title=title, company=company).id, platforms=["meta"], budget_total=1_000_000
    )
    if name is not None:
        campaign.name = name
        db.session.commit()
    return campaign.id


def test_the_search_finds_the_same_campaigns_as_folding_every_row(app_ctx):
    _make("Enfermera Jefe", "Clínica 77 Salud", name="Campaña Bogotá urgencias")
    _make("Enfermería nocturna", "Hospital San José")
    _make("Conductor", "Transportes 100% Ñandú", name="Campaña a_b")
    _make("Vendedora", "Tienda Bogotá salud")
    for q in QUERIES:
        assert _found(q) == _folded_per_row(q), q
    assert len(_found("enfermera")) == 2 and _found("nadie") == []
    assert len(_found("100%")) == 1 and len(_found("a_b")) == 1  # wildcards taken literally


def test_the_searched_texts_follow_every_writer(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("search_text is PostgreSQL's (SQLite folds per row)")
    campaign_id = _make("Analista de datos", "Datos SAS", name="Campaña Norte")
    assert _found("analista") == [campaign_id]
    # The job renamed through the ORM: its campaigns follow (the trigger on job_openings).
    job = db.session.get(JobOpening, db.session.get(Campaign, campaign_id).job_id)
    job.title, job.company = "Científico de datos", "Ñu Ltda"
    db.session.commit()
    assert _found("analista") == [] and _found("cientifico nu") == [campaign_id]
    # The campaign renamed and another inserted by plain SQL (a bulk writer, psql).
    db.session.execute(
        text("UPDATE campaigns SET name = 'Campaña Pasto' WHERE id = :id"), {"id": campaign_id}
    )
    db.session.execute(
        text(
            "INSERT INTO campaigns (job_id, name, objective, budget_total, start_date, status, created_at,"
            " updated_at) SELECT job_id, 'Búsqueda MEDELLÍN', objective, 1, start_date, 'draft', now(), now()"
            " FROM campaigns WHERE id = :id"
        ),
        {"id": campaign_id},
    )
    db.session.commit()
    other = db.session.scalar(select(Campaign.id).where(Campaign.name == "Búsqueda MEDELLÍN"))
    assert _found("pasto") == [campaign_id]
    assert _found("busqueda medellin cientifico") == [other]
    stored = db.session.scalar(select(Campaign.search_text).where(Campaign.id == other))
    assert stored == "busqueda medellin\ncientifico de datos\nnu ltda"
    for q in ("datos", "campana", "medellin nu", "pasto medellin"):
        assert _found(q) == _folded_per_row(q), q


def test_postgresql_indexes_the_searched_texts_by_trigrams(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    definition = db.session.scalar(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_campaigns_search_text_trgm'")
    )
    assert definition is not None and "gin_trgm_ops" in definition


def test_pages_by_id_start_at_the_ids_the_index_finds(app_ctx):
    ids = [_make(f"Cargo {n}", "Empresa") for n in range(7)]
    for campaign_id in ids[::2]:
        db.session.get(Campaign, campaign_id).status = "archived"
    db.session.commit()

    def pages(**filters):
        found = [campaigns_service.list_campaigns(page=n, page_size=3, **filters) for n in (1, 2, 3, 4)]
        return [([c.id for c in p.items], p.total, p.page) for p in found]

    newest = sorted(ids, reverse=True)
    assert pages() == [(newest[:3], 7, 1), (newest[3:6], 7, 2), (newest[6:], 7, 3), ([], 7, 4)]
    archived = sorted(ids[::2], reverse=True)
    assert pages(status="archived") == [(archived[:3], 4, 1), (archived[3:], 4, 2), ([], 4, 3), ([], 4, 4)]
    oldest = pages(descending=False)
    assert [c for ids_, _, _ in oldest for c in ids_] == sorted(ids)
    assert campaigns_service.list_campaigns(status="active").items == []
    budgets = [3, 1, 2, 1, 5, 1, 4]  # ties: newest first among equals
    for campaign_id, budget in zip(ids, budgets, strict=True):
        db.session.get(Campaign, campaign_id).budget_total = budget
    db.session.commit()
    for sort in ("budget", "name", "spend", "cpa"):
        for descending in (True, False):
            whole = campaigns_service.list_campaigns(sort=sort, descending=descending, page_size=50).items
            paged = pages(sort=sort, descending=descending)
            assert [c for ids_, _, _ in paged for c in ids_] == [c.id for c in whole], (sort, descending)
    by_budget = [c.id for c in campaigns_service.list_campaigns(sort="budget", page_size=50).items]
    assert by_budget[:2] == [ids[4], ids[6]] and by_budget[-3:] == [ids[5], ids[3], ids[1]]
