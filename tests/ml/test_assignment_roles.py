"""Assignments written as the roles production uses: the tables' owner and a superuser (the version's
own partition built alone and attached, its rows' foreign keys checked by the ATTACH; an owner that
may not create tables drops the keys for the COPY and validates them again in one query) and a
plain role (every row checked by its trigger, into the DEFAULT partition). Each must leave the same
assignments and the same, valid, working foreign keys."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona, CandidateSegment
from adflux.services import segmentation, segmentation_data
from adflux.services.seeding import seed_database
from adflux.settings import Settings

N = 1200
K = {"k_min": 4, "k_max": 4, "force": True}
OWNER = "adflux_h26_owner"
PLAIN = "adflux_h26_plain"

pytestmark = pytest.mark.postgres


def _grant(role: str) -> None:
    with db.engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if not exists:
            conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))


def _own_assignments(role: str, *, create: bool = False) -> None:
    """`role` owns candidate_segments; with `create` it may create tables in the schema too (as
    the role that ran the migrations may)."""
    with db.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE candidate_segments OWNER TO {role}"))
        if create:
            conn.execute(text(f"GRANT CREATE ON SCHEMA public TO {role}"))


def _partition_of(model_id: int) -> str | None:
    """Where the version's rows are: its own partition's name, or the DEFAULT partition's."""
    names = db.session.scalars(
        text("SELECT DISTINCT tableoid::regclass::text FROM candidate_segments WHERE model_id = :m"),
        {"m": model_id},
    ).all()
    assert len(names) == 1, names
    return str(names[0])


@pytest.fixture
def roles(app_ctx: Flask) -> Iterator[None]:
    seed_database(candidates=N, jobs=0, seed=5)
    for role in (OWNER, PLAIN):
        _grant(role)
    try:
        yield
    finally:
        db.session.rollback()
        _own_assignments("postgres")
        with db.engine.begin() as conn:
            conn.execute(text(f"REVOKE CREATE ON SCHEMA public FROM {OWNER}"))


def _as(settings: Settings, role: str) -> Flask:
    url = db.engine.url.set(username=role, password=None)
    return create_app(settings.replace(database_url=url.render_as_string(hide_password=False)))


def _foreign_keys() -> list[tuple[str, bool]]:
    rows = db.session.execute(
        text(
            "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = 'candidate_segments'::regclass AND contype = 'f' ORDER BY 1"
        )
    )
    return [(str(definition), bool(valid)) for definition, valid in rows]


def _train_as(settings: Settings, role: str, caplog: pytest.LogCaptureFixture) -> tuple[int, str, str]:
    """(rows written, the write's log line, the partition holding them)."""
    other = _as(settings, role)
    with other.app_context():
        with caplog.at_level(logging.INFO, logger="adflux.services.assignment_copy"):
            model = segmentation.train_segmentation(**K)
        rows = db.session.scalar(select(func.count()).where(CandidateSegment.model_id == model.id))
        partition = _partition_of(model.id)
        db.session.remove()
        db.engine.dispose()
    mode = next(r.getMessage() for r in caplog.records if "assignments of model" in r.getMessage())
    return int(rows or 0), mode, partition


def test_every_role_leaves_one_assignment_per_candidate_and_valid_foreign_keys(
    settings: Settings, roles: None, caplog: pytest.LogCaptureFixture
) -> None:
    keys = _foreign_keys()
    assert len(keys) == 3 and all(valid for _, valid in keys)
    _own_assignments(OWNER)
    own, default = "candidate_segments_m{}", "candidate_segments_default"
    # Model ids 1..5 in this order; the owner without CREATE on the schema first (plain path).
    runs = (
        (OWNER, False, "(owner)", default),
        (OWNER, True, "(owner)", own),
        ("postgres", True, "(owner)", own),
    )
    for model_id, (role, create, mode, where) in enumerate((*runs, (PLAIN, True, "(checked)", default)), 1):
        if create:
            _own_assignments(OWNER, create=True)
        caplog.clear()
        rows, logged, partition = _train_as(settings, role, caplog)
        assert rows == N and logged.endswith(mode), (role, logged)
        assert partition == where.format(model_id), (role, partition)
        assert _foreign_keys() == keys  # same definitions, validated again
    # The foreign keys still act: removing a candidate removes its assignments.
    gone = db.session.scalar(select(Candidate.id).limit(1))
    db.session.execute(delete(CandidatePersona).where(CandidatePersona.candidate_id == gone))
    db.session.execute(delete(Candidate).where(Candidate.id == gone))
    db.session.commit()
    left = db.session.scalar(select(func.count()).where(CandidateSegment.candidate_id == gone))
    assert left == 0


@pytest.mark.parametrize("create", [False, True], ids=["plain-path", "partition-path"])
def test_the_owner_drops_candidates_deleted_during_training_before_the_keys_come_back(
    settings: Settings,
    roles: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    create: bool,
) -> None:
    _own_assignments(OWNER, create=create)
    read = segmentation_data.read_candidate_columns
    engine = db.engine

    def read_then_lose_two() -> segmentation_data.CandidateColumns:
        columns = read()
        gone = [int(columns.ids[0]), int(columns.ids[-1])]
        with engine.begin() as conn:
            conn.execute(delete(CandidatePersona).where(CandidatePersona.candidate_id.in_(gone)))
            conn.execute(delete(Candidate).where(Candidate.id.in_(gone)))
        return columns

    monkeypatch.setattr(segmentation_data, "read_candidate_columns", read_then_lose_two)
    rows, logged, partition = _train_as(settings, OWNER, caplog)
    assert rows == N - 2 and logged.endswith("(owner)")
    assert partition == ("candidate_segments_m1" if create else "candidate_segments_default")
    assert all(valid for _, valid in _foreign_keys()) and len(_foreign_keys()) == 3
