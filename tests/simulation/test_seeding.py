"""seed_database: bulk, atomic, idempotent, and faithful to the generator on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select, text

from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona, JobOpening
from adflux.services import seeding_copy
from adflux.services.seeding import SeedResult, seed_database
from adflux.simulation import generate_candidates, generate_jobs

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def seed_app(request: pytest.FixtureRequest) -> Flask:
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Candidate)),
        db.session.scalar(select(func.count()).select_from(CandidatePersona)),
        db.session.scalar(select(func.count()).select_from(JobOpening)),
    )


def test_seeding_writes_candidates_personas_and_jobs_as_generated(seed_app: Flask) -> None:
    result = seed_database(candidates=500, jobs=40, seed=3, as_of=AS_OF)

    assert isinstance(result, SeedResult)
    assert (result.candidates_inserted, result.jobs_inserted) == (500, 40)
    assert counts() == (500, 500, 40)
    expected = generate_candidates(500, seed=3, as_of=AS_OF)
    rows = db.session.execute(
        select(Candidate, CandidatePersona.persona)
        .join(CandidatePersona, CandidatePersona.candidate_id == Candidate.id)
        .order_by(Candidate.external_ref)
    ).all()
    for i in (0, 1, 250, 499):
        candidate, persona = rows[i]
        assert candidate.external_ref == expected.external_ref[i]
        assert candidate.birth_year == expected.birth_year[i]
        assert (candidate.city, candidate.department) == (expected.city[i], expected.department[i])
        assert candidate.education_level == expected.education_level[i]
        assert candidate.expected_salary == expected.expected_salary[i]
        assert candidate.skills == expected.skills[i]
        assert candidate.languages == expected.languages[i]
        assert candidate.email == expected.email[i]
        assert candidate.marketing_consent == bool(expected.marketing_consent[i])
        assert candidate.last_active_at == expected.last_active_at[i].astype(datetime).replace(tzinfo=UTC)
        assert candidate.created_at.tzinfo is not None
        assert persona == expected.persona[i]
    job = db.session.scalar(select(JobOpening).where(JobOpening.external_ref == "SIM-J-0000007"))
    assert job is not None
    assert {k: getattr(job, k) for k in generate_jobs(1, seed=3, start=6)[0]} == generate_jobs(
        1, seed=3, start=6
    )[0]


def test_seeding_twice_adds_nothing_and_growing_adds_only_the_new_rows(seed_app: Flask) -> None:
    seed_database(candidates=300, jobs=20, seed=5, as_of=AS_OF)
    again = seed_database(candidates=300, jobs=20, seed=5, as_of=AS_OF)
    assert (again.candidates_inserted, again.candidates_skipped, again.jobs_inserted) == (0, 300, 0)
    assert counts() == (300, 300, 20)

    grown = seed_database(candidates=450, jobs=25, seed=5, as_of=AS_OF)
    assert (grown.candidates_inserted, grown.jobs_inserted) == (150, 5)
    assert counts() == (450, 450, 25)
    refs = db.session.scalars(select(Candidate.external_ref).order_by(Candidate.id)).all()
    assert refs == [f"SIM-C-{i:07d}" for i in range(1, 451)]


def test_replace_deletes_simulated_rows_and_keeps_real_ones(seed_app: Flask) -> None:
    real = Candidate(
        external_ref="REAL-1",
        birth_year=1990,
        city="Cali",
        department="Valle del Cauca",
        education_level="profesional",
        years_experience=5,
        desired_category="ventas",
        desired_modality="presencial",
        expected_salary=3_000_000,
        skills=["Ventas"],
        languages=["Español"],
    )
    db.session.add(real)
    db.session.commit()
    seed_database(candidates=200, jobs=10, seed=1, as_of=AS_OF)

    result = seed_database(candidates=120, jobs=4, seed=2, as_of=AS_OF, replace=True)

    assert (result.candidates_deleted, result.jobs_deleted) == (200, 10)
    assert counts() == (121, 120, 4)
    assert db.session.scalar(select(Candidate.id).where(Candidate.external_ref == "REAL-1")) == real.id
    stored = db.session.scalar(
        select(Candidate.expected_salary).where(Candidate.external_ref == "SIM-C-0000001")
    )
    assert stored == generate_candidates(1, seed=2, as_of=AS_OF).expected_salary[0]


def test_ids_continue_after_existing_rows_and_later_inserts_do_not_collide(seed_app: Flask) -> None:
    seed_database(candidates=50, jobs=0, seed=1, as_of=AS_OF)
    later = Candidate(
        external_ref="REAL-2",
        birth_year=1985,
        city="Medellín",
        department="Antioquia",
        education_level="maestria",
        years_experience=12,
        desired_category="tecnologia",
        desired_modality="remoto",
        expected_salary=9_000_000,
    )
    db.session.add(later)
    db.session.commit()  # would fail on a duplicate key if the sequence were not moved
    assert later.id > 50
    seed_database(candidates=80, jobs=0, seed=1, as_of=AS_OF)
    ids = db.session.scalars(select(Candidate.id).where(Candidate.external_ref.like("SIM-C-%"))).all()
    assert len(set(ids)) == 80 and max(ids[:50]) < later.id < min(ids[50:])
    persona_ids = set(db.session.scalars(select(CandidatePersona.candidate_id)).all())
    assert persona_ids == set(ids)


def test_a_failure_midway_leaves_nothing_behind(seed_app: Flask) -> None:
    calls: list[tuple[int, int]] = []

    def explode_after_candidates(done: int, total: int) -> None:
        calls.append((done, total))
        if done >= 100:
            raise KeyboardInterrupt  # e.g. Ctrl-C while the jobs are going in

    with pytest.raises(KeyboardInterrupt):
        seed_database(candidates=100, jobs=10, seed=1, progress=explode_after_candidates, as_of=AS_OF)
    db.session.rollback()
    assert counts() == (0, 0, 0)
    assert calls[0] == (0, 110)


def test_progress_reaches_the_total_and_never_goes_back(seed_app: Flask) -> None:
    calls: list[tuple[int, int]] = []
    seed_database(candidates=250, jobs=30, seed=9, as_of=AS_OF, progress=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 280
    assert {t for _, t in calls} == {280}


def test_seeding_runs_inside_an_app_context_only(sqlite_app: Flask) -> None:
    result = seed_database(candidates=0, jobs=0, seed=1)
    assert result.as_dict()["candidates_inserted"] == 0
    with pytest.raises(ValueError):
        seed_database(candidates=-1, jobs=0, seed=1)


@pytest.mark.postgres
def test_bulk_load_rebuilds_the_secondary_indexes_it_dropped(
    pg_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def index_definitions() -> set[str]:
        rows = db.session.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'candidates'"))
        return set(rows.scalars())

    before = index_definitions()
    assert any("ix_candidates_city" in d for d in before)
    monkeypatch.setattr(seeding_copy, "BULK_INDEX_REBUILD_MIN_ROWS", 100)
    db.session.remove()

    result = seed_database(candidates=400, jobs=0, seed=4, as_of=AS_OF)

    assert result.candidates_inserted == 400
    assert index_definitions() == before
    # The rebuilt index answers queries like the original would.
    city = generate_candidates(400, seed=4, as_of=AS_OF).city
    stored = db.session.scalar(select(func.count()).select_from(Candidate).where(Candidate.city == city[0]))
    assert stored == int(np.count_nonzero(city == city[0]))


def _persona_keys() -> list[tuple[str, str, bool]]:
    rows = db.session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = 'candidate_personas'::regclass AND contype = 'f'"
        )
    )
    return sorted((str(name), str(definition), bool(valid)) for name, definition, valid in rows)


@pytest.mark.postgres
def test_a_bulk_load_by_a_non_superuser_checks_the_personas_key_once_after_the_copy(
    pg_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = _persona_keys()
    assert keys and all(valid for *_, valid in keys)
    monkeypatch.setattr(seeding_copy, "BULK_INDEX_REBUILD_MIN_ROWS", 100)
    # The table's owner, not a superuser.
    monkeypatch.setattr(seeding_copy, "_is_superuser", lambda cur: False)
    dropped: list[list[tuple[str, str]]] = []
    real_set_aside = seeding_copy.bulk_foreign_keys.set_aside
    monkeypatch.setattr(
        seeding_copy.bulk_foreign_keys,
        "set_aside",
        lambda cur, table: dropped.append(real_set_aside(cur, table)) or dropped[-1],
    )
    db.session.remove()

    result = seed_database(candidates=400, jobs=0, seed=4, as_of=AS_OF)

    assert result.candidates_inserted == 400 and dropped and dropped[0]  # set aside during the COPY
    assert _persona_keys() == keys  # and back, validated
    orphans = db.session.scalar(
        text(
            "SELECT count(*) FROM candidate_personas p"
            " WHERE NOT EXISTS (SELECT 1 FROM candidates c WHERE c.id = p.candidate_id)"
        )
    )
    assert db.session.scalar(select(func.count()).select_from(CandidatePersona)) == 400 and orphans == 0


@pytest.mark.postgres
def test_a_row_that_breaks_the_key_fails_when_the_key_is_put_back(pg_app: Flask) -> None:
    import psycopg

    from adflux.services import bulk_foreign_keys

    keys = _persona_keys()
    db.session.remove()
    raw = db.engine.raw_connection()
    conn = raw.driver_connection
    try:
        with conn.cursor() as cur:
            kept = bulk_foreign_keys.set_aside(cur, "candidate_personas")
            assert [name for name, _ in kept] == [name for name, *_ in keys]
            cur.execute(
                "INSERT INTO candidate_personas (candidate_id, persona, persona_index)"
                " VALUES (999999, 'x', 0)"
            )
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                bulk_foreign_keys.put_back(cur, "candidate_personas", kept)
        conn.rollback()
    finally:
        raw.close()
    assert _persona_keys() == keys  # the failed load left the key as it was
    assert db.session.scalar(select(func.count()).select_from(CandidatePersona)) == 0
