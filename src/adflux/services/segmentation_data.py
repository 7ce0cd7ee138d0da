"""Bulk reads of candidate features and bulk writes of segment assignments, per database backend.

Never one ORM object per candidate (performance-anchors.md §2): on PostgreSQL only the feature
columns leave the server, through `COPY (SELECT ...) TO STDOUT` parsed by Arrow's CSV reader
(C++), and assignments go back with one binary `COPY ... FROM STDIN`; on SQLite (the embedded
default, thousands of candidates) a Core select into pandas and an executemany.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from sqlalchemy import CursorResult, Engine, Text, delete, func, insert, make_url, select, type_coerce
from sqlalchemy.pool import PoolProxiedConnection

from adflux._lazy import lazy_module
from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona, CandidateSegment
from adflux.models.skills_text import SEPARATOR as SKILLS_SEPARATOR
from adflux.services import assignment_partitions
from adflux.services.assignment_copy import copy_assignments
from adflux.services.copy_reader import copy_out, copy_out_int64

if TYPE_CHECKING:
    import pandas as pd

# Light at import (no pandas, scikit-learn or scipy): the CLI imports this module to start the
# read before the app and the ML stack are imported (`start_early_read`).
ml_features = lazy_module("adflux.ml.features")

logger = logging.getLogger(__name__)
# A psycopg connection, opened and closed by the context manager.
Connect = Callable[[], AbstractContextManager[Any]]

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
# features.SOURCE_COLUMNS (a test keeps them equal), named here so that this module does not
# import the feature code (pandas, scikit-learn) before the read can start.
SOURCE_COLUMNS: tuple[str, ...] = tuple(name for name in _CSV_TYPES if name != "id")
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
    # The model's input frame per reference year, once built (an early read builds it ahead).
    frames: dict[int, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def frame(self, reference_year: int) -> pd.DataFrame:
        """The pipeline's input frame of these candidates (`features.candidate_frame`), built once."""
        if reference_year not in self.frames:
            self.frames[reference_year] = ml_features.candidate_frame(
                self.table, reference_year=reference_year
            )
        return cast("pd.DataFrame", self.frames[reference_year])


def is_postgresql() -> bool:
    """True when the app runs on PostgreSQL (COPY paths), False on SQLite."""
    return db.engine.dialect.name == "postgresql"


def read_candidate_columns() -> CandidateColumns:
    """Read id + the feature columns of every candidate in bulk, sorted by id.

    On PostgreSQL an early read of the same database (`start_early_read`) is taken if one was
    started, instead of reading again.
    """
    if is_postgresql():
        early = _take_early_read(db.engine)
        if early is not None:
            return early
        return _in_id_order(*_finish_postgresql(_read_postgresql(_engine_connect(db.engine))))
    return _in_id_order(*_read_sqlite())


def _in_id_order(ids: np.ndarray, table: pa.Table) -> CandidateColumns:
    # A heap scan usually returns rows in id order already; sort only when it did not, so the
    # same data always reaches training in the same order (same data + seed -> same model).
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, table = ids[order], table.take(pa.array(order))
    return CandidateColumns(ids=ids, table=table)


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
def start_early_read(database_uri: str, *, reference_year: int | None = None) -> bool:
    """Start reading every candidate's feature columns now, on a thread of its own (PostgreSQL).

    For a process that will train and has not built its app yet (`adflux train-segments`): the
    COPY runs on the server and Arrow parses it while this thread imports and builds the rest;
    `read_candidate_columns` then takes the result instead of reading again. The read is the
    same snapshot-consistent read, started a few seconds earlier. With `reference_year` the
    thread goes on to build the model's input frame for that year (`CandidateColumns.frame`:
    Arrow and NumPy work, mostly without the GIL the importing thread holds). False (and nothing
    started) for another database. A failed early read is logged and read again.
    """
    url = make_url(database_uri)
    if url.get_backend_name() != "postgresql":
        return False
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    future: Future[CandidateColumns] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            columns = _in_id_order(*_finish_postgresql(_read_postgresql(_url_connect(conninfo))))
            if reference_year is not None:
                columns.frame(reference_year)
            future.set_result(columns)
        except BaseException as exc:  # handed to the taker, who reads again
            future.set_exception(exc)

    with _early_lock:
        _early_reads[_url_key(database_uri)] = future
    threading.Thread(target=run, name="segmentation-early-read", daemon=True).start()
    return True


_early_lock = threading.Lock()
_early_reads: dict[str, Future[CandidateColumns]] = {}


def _url_key(database_uri: Any) -> str:
    url = make_url(database_uri) if isinstance(database_uri, str) else database_uri
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def _take_early_read(engine: Engine) -> CandidateColumns | None:
    """The early read of `engine`'s database, once (None when none was started or it failed)."""
    with _early_lock:
        future = _early_reads.pop(_url_key(engine.url), None)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        logger.warning("the early candidate read failed; reading again", exc_info=True)
        return None


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


def _url_connect(conninfo: str) -> Connect:
    @contextmanager
    def connect() -> Iterator[Any]:
        with psycopg.connect(conninfo) as conn:
            yield conn

    return connect


def _read_postgresql(connect: Connect) -> pa.Table:
    """Every candidate's feature columns as COPY renders them (skills still as text)."""
    query = f"SELECT {_PG_SELECT} FROM candidates"
    pages = _relation_pages(connect, "candidates")
    streams = PARALLEL_READ_STREAMS if pages >= PARALLEL_READ_MIN_PAGES else 1
    if streams == 1:
        return _copy_out_csv(query, _PG_TYPES, connect=connect)
    return _copy_out_parallel(query, _PG_TYPES, pages, streams, connect)


def _finish_postgresql(table: pa.Table) -> tuple[np.ndarray, pa.Table]:
    ids = _int_column(table, "id")
    skills = ml_features.joined_skills(
        table.column("skills_text"), table.column("skills_json"), SKILLS_SEPARATOR
    )
    table = table.drop_columns(["skills_text", "skills_json"]).append_column("skills", skills)
    return ids, table.select(list(SOURCE_COLUMNS))


def _relation_pages(connect: Connect, table: str) -> int:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT relpages FROM pg_class WHERE oid = CAST(%s AS regclass)", (table,))
        pages = int(cur.fetchone()[0] or 0)
        conn.rollback()
        return pages


def _copy_out_parallel(
    query: str, types: dict[str, pa.DataType], pages: int, streams: int, connect: Connect
) -> pa.Table:
    """Read `query` as `streams` COPYs over disjoint block ranges of one consistent snapshot.

    The server's work (reading tuples, rendering jsonb as text) and the client's CSV parsing
    are split over the cores. All streams import the snapshot a leader exports, the way
    pg_dump --jobs does, so together they see each row exactly once even while others write.
    """
    with connect() as leader_conn:
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
                pool.map(lambda q: _copy_out_csv(q, types, connect=connect, snapshot=snapshot), ranges)
            )
        leader_conn.rollback()
    return pa.concat_tables(parts)


def _copy_out_csv(
    query: str,
    types: dict[str, pa.DataType],
    *,
    engine: Engine | None = None,
    connect: Connect | None = None,
    snapshot: str | None = None,
) -> pa.Table:
    """Run `COPY (query) TO STDOUT (FORMAT CSV)` on a pooled connection and parse it with Arrow."""
    with (connect or _engine_connect(engine or db.engine))() as conn:
        with conn.cursor() as cur:
            if snapshot is not None:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        # One growing buffer, straight from libpq (`copy_reader`: no per-row Python).
        buffer = copy_out(conn, f"COPY ({query}) TO STDOUT (FORMAT CSV)")
        conn.rollback()  # end the read-only transaction psycopg opened, if any
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
            {name: pa.array([], type=_CSV_TYPES[name]) for name in SOURCE_COLUMNS}
        )
    ids = frame.pop("id").to_numpy(dtype=np.int64)
    return ids, pa.Table.from_pandas(frame[list(SOURCE_COLUMNS)], preserve_index=False)


def _int_column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=np.int64)
