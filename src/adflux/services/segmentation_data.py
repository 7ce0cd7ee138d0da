"""Bulk reads of candidate features and bulk writes of segment assignments, per database backend.

Never one ORM object per candidate (performance-anchors.md §2): on PostgreSQL only the feature
columns leave the server, through `COPY (SELECT ...) TO STDOUT` parsed by Arrow's CSV reader
(C++), and assignments go back with one binary `COPY ... FROM STDIN`; on SQLite (the embedded
default, thousands of candidates) a Core select into pandas and an executemany.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from sqlalchemy import CursorResult, Engine, Text, delete, func, insert, select, text, type_coerce
from sqlalchemy.pool import PoolProxiedConnection

from adflux.extensions import db
from adflux.ml.features import SOURCE_COLUMNS, joined_skills
from adflux.models import Candidate, CandidatePersona, CandidateSegment
from adflux.models.skills_text import SEPARATOR as SKILLS_SEPARATOR
from adflux.services.assignment_copy import copy_assignments

logger = logging.getLogger(__name__)

# Arrow types of the feature columns as COPY ... (FORMAT CSV) renders them.
_CSV_TYPES: dict[str, pa.DataType] = {
    "id": pa.int64(),
    "birth_year": pa.int16(),
    "city": pa.string(),
    "department": pa.string(),
    "education_level": pa.string(),
    "years_experience": pa.int16(),
    "desired_category": pa.string(),
    "desired_modality": pa.string(),
    "expected_salary": pa.int64(),
    "skills": pa.string(),  # JSON text; features.candidate_frame splits it without a parser
}
# On PostgreSQL the skills come as `skills_text` (joined by U+001F, models/skills_text.py) and,
# only where that is NULL, as the jsonb rendered as text: no per-row jsonb rendering.
_PG_TYPES: dict[str, pa.DataType] = {
    **{name: kind for name, kind in _CSV_TYPES.items() if name != "skills"},
    "skills_text": pa.string(),
    "skills_json": pa.string(),
}
_PG_SELECT = ", ".join(
    [
        "id",
        *(name for name in SOURCE_COLUMNS if name != "skills"),
        "skills_text",
        "CASE WHEN skills_text IS NULL THEN skills::text END AS skills_json",
    ]
)
_SQLITE_CHUNK = 20_000
# Tables of ~250k candidates and more (10k pages) are read as parallel COPY streams.
PARALLEL_READ_STREAMS = 2
PARALLEL_READ_MIN_PAGES = 10_000


@dataclass
class CandidateColumns:
    """Every candidate's id and feature columns, in id order."""

    ids: np.ndarray  # int64
    table: pa.Table  # SOURCE_COLUMNS

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def is_postgresql() -> bool:
    """True when the app runs on PostgreSQL (COPY paths), False on SQLite."""
    return db.engine.dialect.name == "postgresql"


def read_candidate_columns() -> CandidateColumns:
    """Read id + the feature columns of every candidate in bulk, sorted by id."""
    ids, table = _read_postgresql() if is_postgresql() else _read_sqlite()
    # A heap scan usually returns rows in id order already; sort only when it did not, so the
    # same data always reaches training in the same order (same data + seed -> same model).
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, table = ids[order], table.take(pa.array(order))
    return CandidateColumns(ids=ids, table=table)


def read_candidate_rows(candidate_ids: list[int]) -> CandidateColumns:
    """The feature columns of a few candidates (one new candidate to assign)."""
    columns = [getattr(Candidate, name) for name in SOURCE_COLUMNS]
    rows = db.session.execute(select(Candidate.id, *columns).where(Candidate.id.in_(candidate_ids))).all()
    frame = pd.DataFrame.from_records(rows, columns=["id", *SOURCE_COLUMNS])
    ids = frame.pop("id").to_numpy(dtype=np.int64)
    return CandidateColumns(ids=ids, table=pa.Table.from_pandas(frame, preserve_index=False))


def read_personas(*, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(candidate id, persona index) for every simulated candidate; empty arrays when none exist.

    With `engine` (PostgreSQL) it runs without an app context, e.g. in a worker thread.
    """
    if engine is not None or is_postgresql():
        table = _copy_out_csv(
            "SELECT candidate_id, persona_index FROM candidate_personas",
            {"candidate_id": pa.int64(), "persona_index": pa.int32()},
            engine=engine,
        )
        return _int_column(table, "candidate_id"), _int_column(table, "persona_index")
    rows = db.session.execute(select(CandidatePersona.candidate_id, CandidatePersona.persona_index)).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    array = np.asarray(rows, dtype=np.int64)
    return array[:, 0], array[:, 1]


def read_assignments(model_id: int, *, engine: Engine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(candidate id, segment id) of every assignment a model version holds (`engine`: as above)."""
    if engine is not None or is_postgresql():
        table = _copy_out_csv(
            f"SELECT candidate_id, segment_id FROM candidate_segments WHERE model_id = {int(model_id)}",
            {"candidate_id": pa.int64(), "segment_id": pa.int64()},
            engine=engine,
        )
        return _int_column(table, "candidate_id"), _int_column(table, "segment_id")
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
    db.session.execute(delete(CandidateSegment).where(CandidateSegment.model_id == model_id))
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
    """Drop the assignments of these versions (old, retired ones); the caller commits."""
    if not model_ids:
        return 0
    # A DML statement's result is a CursorResult (it has the row count); execute() is typed Result.
    result = cast(
        CursorResult[Any],
        db.session.execute(delete(CandidateSegment).where(CandidateSegment.model_id.in_(model_ids))),
    )
    return int(result.rowcount or 0)


# ---- PostgreSQL -------------------------------------------------------------------------------
def _read_postgresql() -> tuple[np.ndarray, pa.Table]:
    query = f"SELECT {_PG_SELECT} FROM candidates"
    pages = _relation_pages("candidates")
    streams = PARALLEL_READ_STREAMS if pages >= PARALLEL_READ_MIN_PAGES else 1
    table = (
        _copy_out_csv(query, _PG_TYPES)
        if streams == 1
        else _copy_out_parallel(query, _PG_TYPES, pages, streams)
    )
    ids = _int_column(table, "id")
    skills = joined_skills(table.column("skills_text"), table.column("skills_json"), SKILLS_SEPARATOR)
    table = table.drop_columns(["skills_text", "skills_json"]).append_column("skills", skills)
    return ids, table.select(list(SOURCE_COLUMNS))


def _relation_pages(table: str) -> int:
    with db.engine.connect() as conn:
        pages = conn.execute(
            text("SELECT relpages FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        )
        return int(pages.scalar() or 0)


def _copy_out_parallel(query: str, types: dict[str, pa.DataType], pages: int, streams: int) -> pa.Table:
    """Read `query` as `streams` COPYs over disjoint block ranges of one consistent snapshot.

    The server's work (reading tuples, rendering jsonb as text) and the client's CSV parsing
    are split over the cores. All streams import the snapshot a leader exports, the way
    pg_dump --jobs does, so together they see each row exactly once even while others write.
    """
    engine = db.engine
    leader = engine.raw_connection()
    try:
        leader_conn = _driver_connection(leader)
        with leader_conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
        bounds = [pages * i // streams for i in range(streams + 1)]
        ranges = []
        for i in range(streams):
            conditions = []
            if i > 0:
                conditions.append(f"ctid >= '({bounds[i]},0)'::tid")
            if i < streams - 1:  # the last range is open: the table may have grown since relpages
                conditions.append(f"ctid < '({bounds[i + 1]},0)'::tid")
            ranges.append(f"{query} WHERE {' AND '.join(conditions)}")
        with ThreadPoolExecutor(max_workers=streams, thread_name_prefix="copy-out") as pool:
            parts = list(
                pool.map(lambda q: _copy_out_csv(q, types, engine=engine, snapshot=snapshot), ranges)
            )
        leader_conn.rollback()
    finally:
        leader.close()
    return pa.concat_tables(parts)


def _copy_out_csv(
    query: str, types: dict[str, pa.DataType], *, engine: Engine | None = None, snapshot: str | None = None
) -> pa.Table:
    """Run `COPY (query) TO STDOUT (FORMAT CSV)` on a pooled connection and parse it with Arrow."""
    # Worker threads have no app context: they are handed the engine.
    raw = (engine or db.engine).raw_connection()
    try:
        conn = _driver_connection(raw)
        buffer = bytearray()
        with conn.cursor() as cur:
            if snapshot is not None:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT CSV)") as copy:
                # Appending to one bytearray: a single growing buffer, no list of chunks to join.
                for chunk in copy:
                    buffer += chunk
        conn.rollback()  # end the read-only transaction psycopg opened
    finally:
        raw.close()
    if not buffer:
        return pa.table({name: pa.array([], type=kind) for name, kind in types.items()})
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(buffer)),
        read_options=pacsv.ReadOptions(column_names=list(types), block_size=16 << 20),
        # COPY CSV writes NULL unquoted and an empty string as "": keep them apart.
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


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
    result = db.session.execute(select(Candidate.id, *columns, skills))
    frame = pd.DataFrame.from_records(result.all(), columns=list(result.keys()))
    if frame.empty:
        return np.empty(0, dtype=np.int64), pa.table(
            {name: pa.array([], type=_CSV_TYPES[name]) for name in SOURCE_COLUMNS}
        )
    ids = frame.pop("id").to_numpy(dtype=np.int64)
    return ids, pa.Table.from_pandas(frame[list(SOURCE_COLUMNS)], preserve_index=False)


def _int_column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=np.int64)
