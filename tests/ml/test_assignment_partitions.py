"""A version's partition is checked when attached: a row without its candidate fails the ATTACH
(so the training's transaction rolls back), and only that version's rows are checked."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select, text

from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment
from adflux.services import assignment_partitions as partitions
from adflux.services import segmentation
from adflux.services.seeding import seed_database
from adflux.services.segmentation_data import _driver_connection

pytestmark = pytest.mark.postgres
N = 1200


@pytest.fixture
def trained(app_ctx: Flask) -> int:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    seed_database(candidates=N, jobs=0, seed=7)
    return segmentation.train_segmentation(k_min=3, k_max=3, force=True).id


def _raw() -> psycopg.Connection:
    return _driver_connection(db.session.connection().connection)


def test_a_row_without_its_candidate_fails_the_attach_and_nothing_stays(trained: int) -> None:
    segment = db.session.scalar(select(Segment.id).where(Segment.model_id == trained).limit(1))
    missing = int(db.session.scalar(select(func.max(Candidate.id)))) + 1000
    raw = _raw()
    with raw.cursor() as cur:
        table = partitions.create_standalone(cur, trained)  # the trained version's partition, again
        cur.execute(
            f"INSERT INTO {table} (model_id, candidate_id, segment_id) VALUES (%s, %s, %s)",
            (trained, missing, segment),
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            partitions.attach(cur, trained, table)
    db.session.rollback()
    # The rolled-back transaction had dropped the old partition: it is back, whole.
    count = select(func.count()).where(CandidateSegment.model_id == trained)
    assert db.session.scalar(count) == N
    where = text("SELECT DISTINCT tableoid::regclass::text FROM candidate_segments WHERE model_id = :m")
    assert db.session.scalars(where, {"m": trained}).all() == [f"candidate_segments_m{trained}"]


def test_rows_of_a_version_in_the_default_partition_are_pruned_with_its_partition(trained: int) -> None:
    newest = segmentation.train_segmentation(k_min=3, k_max=3, force=True).id
    segment = db.session.scalar(select(Segment.id).where(Segment.model_id == newest).limit(1))
    # A one-off row of a third version that has no partition of its own lands in DEFAULT.
    third = segmentation.train_segmentation(k_min=3, k_max=3, force=True).id
    raw = _raw()
    with raw.cursor() as cur:
        assert partitions.drop_partition(cur, third) == N
    ids = np.asarray(db.session.scalars(select(Candidate.id).limit(2)).all())
    for candidate_id in ids:
        db.session.add(CandidateSegment(model_id=third, candidate_id=int(candidate_id), segment_id=segment))
    db.session.commit()
    assert segmentation.prune_assignments(keep=0) == 2 * N  # the two retired versions' partitions
    from adflux.services import segmentation_data

    assert segmentation_data.delete_assignments(model_ids=[third]) == 2  # DEFAULT's rows, deleted
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CandidateSegment)) == 0


def test_the_partition_holds_the_parents_keys_checked_before_the_attach(trained: int) -> None:
    """Each of the parent's foreign keys is added to the version's table under its own name and
    checked there, each in a step of its own; ATTACH adopts them (each becomes the parent key's
    clone): none checked twice, none left over."""
    rows = db.session.execute(
        select(CandidateSegment.model_id, CandidateSegment.candidate_id, CandidateSegment.segment_id).where(
            CandidateSegment.model_id == trained
        )
    ).all()
    raw = _raw()
    with raw.cursor() as cur:
        table = partitions.create_standalone(cur, trained)
        cur.executemany(f"INSERT INTO {table} (model_id, candidate_id, segment_id) VALUES (%s, %s, %s)", rows)
        steps = partitions.attach(cur, trained, table)
        cur.execute(
            "SELECT c.conname, p.conname FROM pg_constraint c"
            " LEFT JOIN pg_constraint p ON p.oid = c.conparentid"
            " WHERE c.conrelid = CAST(%s AS regclass) AND c.contype = 'f' ORDER BY c.conname",
            (table,),
        )
        keys = cur.fetchall()
        cur.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'candidate_segments'::regclass"
            " AND contype = 'f' ORDER BY conname"
        )
        parents = [name for (name,) in cur.fetchall()]
    db.session.rollback()
    assert list(steps) == [
        "primary_key",
        "index",
        "key_candidate_id",
        "key_model_id",
        "key_segment_id",
        "attach",
        "analyze",
    ]
    assert len(parents) == 3
    assert keys == [(name, name) for name in parents]


def test_a_row_without_its_segment_fails_its_key_and_nothing_stays(trained: int) -> None:
    candidate = db.session.scalar(select(func.min(Candidate.id)))
    raw = _raw()
    with raw.cursor() as cur:
        table = partitions.create_standalone(cur, trained)
        cur.execute(
            f"INSERT INTO {table} (model_id, candidate_id, segment_id) VALUES (%s, %s, %s)",
            (trained, candidate, 2_000_000_000),
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            partitions.attach(cur, trained, table)
    db.session.rollback()
    count = select(func.count()).where(CandidateSegment.model_id == trained)
    assert db.session.scalar(count) == N
