"""Bulk reads of candidate features and bulk writes of segment assignments, per database backend.

Never one ORM object per candidate (performance-anchors.md §2): on PostgreSQL only the feature
columns leave the server, through `COPY (SELECT ...) TO STDOUT` parsed by Arrow's CSV reader
(C++), and assignments go back with one binary `COPY ... FROM STDIN`; on SQLite (the embedded
default, thousands of candidates) a Core select into pandas and an executemany.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pyarrow as pa
from psycopg import sql
from sqlalchemy import CursorResult, Engine, Text, delete, func, insert, select, type_coerce
from sqlalchemy.pool import PoolProxiedConnection

from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona, CandidateSegment
from adflux.services import assignment_partitions
from adflux.services.assignment_copy import copy_assignments
from adflux.services.candidate_read import (
    CSV_TYPES,
    SOURCE_COLUMNS,
    CandidateColumns,
    Connect,
    finish_postgresql,
    in_id_order,
    read_postgresql,
    take_early_read,
)
from adflux.services.copy_reader import copy_out_int64

logger = logging.getLogger(__name__)
_SQLITE_CHUNK = 20_000


def is_postgresql() -> bool:
    """True when the app runs on PostgreSQL (COPY paths), False on SQLite."""
    return db.engine.dialect.name == "postgresql"


def read_candidate_columns() -> CandidateColumns:
    """Read id + the feature columns of every candidate in bulk, sorted by id.

    On PostgreSQL an early read of the same database (`start_early_read`) is taken if one was
    started, instead of reading again.
    """
    if is_postgresql():
        early = take_early_read(db.engine.url)
        if early is not None:
            return early
        return in_id_order(*finish_postgresql(read_postgresql(_engine_connect(db.engine))))
    return in_id_order(*_read_sqlite())


def read_candidate_rows(candidate_ids: list[int]) -> CandidateColumns:
    """The feature columns of a few candidates (one new candidate to assign)."""
    columns = [getattr(Candidate, name) for name in SOURCE_COLUMNS]
    import pandas as pd

    rows = db.session.execute(select(Candidate.id, *columns).where(Candidate.id.in_(candidate_ids))).all()
    frame = pd.DataFrame.from_records(rows, columns=["id", *SOURCE_COLUMNS])
    ids = frame.pop("id").to_numpy(dtype=np.int64)
    return CandidateColumns(ids=ids, table=pa.Table.from_pandas(frame, preserve_index=False))


def read_personas(*, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(candidate id, persona index) for every simulated candidate; empty arrays when none exist.

    With `engine` (PostgreSQL) it runs without an app context, e.g. in a worker thread.
    """
    if engine is not None or is_postgresql():
        ids, personas = _copy_out_int64(
            "SELECT candidate_id::int8, persona_index::int8 FROM candidate_personas", 2, engine
        )
        return ids, personas
    rows = db.session.execute(select(CandidatePersona.candidate_id, CandidatePersona.persona_index)).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    array = np.asarray(rows, dtype=np.int64)
    return array[:, 0], array[:, 1]


def read_assignments(model_id: int, *, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(candidate id, segment id) of every assignment a model version holds (`engine`: as above)."""
    if engine is not None or is_postgresql():
        ids, segments = _copy_out_int64(
            "SELECT candidate_id::int8, segment_id::int8 FROM candidate_segments"
            f" WHERE model_id = {int(model_id)}",
            2,
            engine,
        )
        return ids, segments
    rows = db.session.execute(
        select(CandidateSegment.candidate_id, CandidateSegment.segment_id).where(
            CandidateSegment.model_id == model_id
        )
    ).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    array = np.asarray(rows, dtype=np.int64)
    return array[:, 0], array[:, 1]


def candidate_window(*, engine: Engine | None = None) -> dict[str, Any]:
    """How many candidates there are and when the first and last were created (`engine`: as above)."""
    stmt = select(func.count(Candidate.id), func.min(Candidate.created_at), func.max(Candidate.created_at))
    if engine is not None:
        with engine.connect() as conn:
            count, first, last = conn.execute(stmt).one()
    else:
        count, first, last = db.session.execute(stmt).one()
    return {
        "candidates": int(count or 0),
        "first_created_at": first.isoformat() if first else None,
        "last_created_at": last.isoformat() if last else None,
    }


def replace_assignments(
    *,
    model_id: int,
    candidate_ids: np.ndarray,
    segment_ids: np.ndarray,
    background: Executor | None = None,
) -> Future[None] | None:
    """Write a model version's assignments in the session's transaction (the caller commits).

    Earlier rows of the same version are replaced (re-activating a version re-assigns everyone).
    With `background` on PostgreSQL the COPY runs there and a future is returned: the caller may
    compute meanwhile but must not use the session until the future is done (same connection).
    """
    candidate_ids = np.asarray(candidate_ids, dtype=np.int64)
    segment_ids = np.asarray(segment_ids, dtype=np.int64)
    if candidate_ids.shape != segment_ids.shape:
        raise ValueError("one segment per candidate")
    delete_assignments(model_ids=[model_id])
    if len(candidate_ids) == 0:
        return None
    if is_postgresql():
        connection = _driver_connection(db.session.connection().connection)
        if background is not None:
            return background.submit(copy_assignments, connection, model_id, candidate_ids, segment_ids)
        copy_assignments(connection, model_id, candidate_ids, segment_ids)
        return None
    table = CandidateSegment.__table__
    connection = db.session.connection()
    # The DELETE above made this transaction SQLite's one writer: candidates cannot change until
    # commit. Leave out those deleted since they were read (SQLite does not check the foreign key).
    existing = np.fromiter(connection.execute(select(Candidate.id)).scalars(), dtype=np.int64)
    kept = np.isin(candidate_ids, existing)
    if not bool(kept.all()):
        logger.info("left out %d candidates deleted during training", int((~kept).sum()))
        candidate_ids, segment_ids = candidate_ids[kept], segment_ids[kept]
    for start in range(0, len(candidate_ids), _SQLITE_CHUNK):
        stop = start + _SQLITE_CHUNK
        connection.execute(
            insert(table),
            [
                {"model_id": model_id, "candidate_id": int(c), "segment_id": int(s)}
                for c, s in zip(candidate_ids[start:stop], segment_ids[start:stop], strict=True)
            ],
        )
    return None


def delete_assignments(*, model_ids: list[int]) -> int:
    """Drop the assignments of these versions (old, retired ones); how many rows; the caller commits.

    On PostgreSQL a version's own partition is dropped whole (its rows counted first); rows left
    elsewhere (the DEFAULT partition, or a partition this role may not drop) are deleted.
    """
    if not model_ids:
        return 0
    dropped = 0
    if is_postgresql():
        raw = _driver_connection(db.session.connection().connection)
        with raw.cursor() as cur:
            for model_id in model_ids:
                dropped += assignment_partitions.drop_partition(cur, model_id) or 0
    # A DML statement's result is a CursorResult (it has the row count); execute() is typed Result.
    result = cast(
        CursorResult[Any],
        db.session.execute(delete(CandidateSegment).where(CandidateSegment.model_id.in_(model_ids))),
    )
    return dropped + int(result.rowcount or 0)


# ---- PostgreSQL -------------------------------------------------------------------------------
def _engine_connect(engine: Engine) -> Connect:
    @contextmanager
    def connect() -> Iterator[Any]:
        # Worker threads have no app context: they are handed the engine.
        raw = engine.raw_connection()
        try:
            yield _driver_connection(raw)
        finally:
            raw.close()

    return connect


def _copy_out_int64(
    query: str, columns: int, engine: Engine | None, snapshot: str | None = None
) -> list[np.ndarray]:
    """Bigint columns of `query` on a pooled connection (in `snapshot` if given), by binary COPY."""
    with _engine_connect(engine or db.engine)() as conn:
        try:
            if snapshot is not None:
                with conn.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            return copy_out_int64(conn, query, columns)
        finally:
            conn.rollback()


def _driver_connection(pooled: PoolProxiedConnection) -> Any:
    """The psycopg connection behind a pooled SQLAlchemy one: COPY needs the driver's own API."""
    driver = pooled.driver_connection
    if driver is None:  # never for a connection in use; None once one is invalidated
        raise RuntimeError("the pooled database connection has no driver connection")
    return driver


# ---- SQLite -----------------------------------------------------------------------------------
def _read_sqlite() -> tuple[np.ndarray, pa.Table]:
    columns = [getattr(Candidate, name) for name in SOURCE_COLUMNS if name != "skills"]
    # The JSON text as stored: candidate_frame splits it, instead of json.loads per row here.
    skills = type_coerce(Candidate.skills, Text).label("skills")
    import pandas as pd

    result = db.session.execute(select(Candidate.id, *columns, skills))
    frame = pd.DataFrame.from_records(result.all(), columns=list(result.keys()))
    if frame.empty:
        return np.empty(0, dtype=np.int64), pa.table(
            {name: pa.array([], type=CSV_TYPES[name]) for name in SOURCE_COLUMNS}
        )
    ids = frame.pop("id").to_numpy(dtype=np.int64)
    return ids, pa.Table.from_pandas(frame[list(SOURCE_COLUMNS)], preserve_index=False)
