"""Every candidate's feature columns read from PostgreSQL by COPY: on demand, or before the app exists.

Light at import — NumPy, psycopg, pyarrow and SQLAlchemy's URL, no Flask app, no models, no pandas
or scikit-learn (those are imported when a frame is built) — so that `adflux train-segments` can
start the read before it imports anything else (`adflux.command_line`, `start_for_training`): the
COPY runs on the server and Arrow parses it while the process imports the app and the ML stack,
then the same thread builds the model's input frame and fits the feature steps on it. The
training (`segmentation_data.read_candidate_columns`) takes what was read and prepared.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from adflux._lazy import lazy_module
from adflux.ml.skills_lists import joined_skills
from adflux.services.copy_reader import copy_out

if TYPE_CHECKING:
    import pandas as pd

    from adflux.settings import Settings

ml_features = lazy_module("adflux.ml.features")
ml_training = lazy_module("adflux.ml.training")

logger = logging.getLogger(__name__)
# A psycopg connection, opened and closed by the context manager.
Connect = Callable[[], AbstractContextManager[Any]]
# `models.skills_text.SEPARATOR` (a test keeps them equal): importing the models would import the app.
SKILLS_SEPARATOR = "\x1f"

# Arrow types of the feature columns as COPY ... (FORMAT CSV) renders them.
CSV_TYPES: dict[str, pa.DataType] = {
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
SOURCE_COLUMNS: tuple[str, ...] = tuple(name for name in CSV_TYPES if name != "id")
# On PostgreSQL the skills come as `skills_text` (joined by U+001F, models/skills_text.py) and,
# only where that is NULL, as the jsonb rendered as text: no per-row jsonb rendering.
PG_TYPES: dict[str, pa.DataType] = {
    **{name: kind for name, kind in CSV_TYPES.items() if name != "skills"},
    # Dictionary-encoded by Arrow's reader, in each stream's parse thread: candidates share skill
    # lists, and `joined_skills` splits each distinct list once.
    "skills_text": pa.dictionary(pa.int32(), pa.string()),
    "skills_json": pa.string(),
}
PG_SELECT = ", ".join(
    [
        "id",
        *(name for name in SOURCE_COLUMNS if name != "skills"),
        "skills_text",
        "CASE WHEN skills_text IS NULL THEN skills::text END AS skills_json",
    ]
)
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
    # The feature steps fitted on a year's frame, with their matrix (`prepare_features`).
    prepared: dict[int, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def frame(self, reference_year: int) -> pd.DataFrame:
        """The pipeline's input frame of these candidates (`features.candidate_frame`), built once."""
        if reference_year not in self.frames:
            self.frames[reference_year] = ml_features.candidate_frame(
                self.table, reference_year=reference_year
            )
        return cast("pd.DataFrame", self.frames[reference_year])

    def prepare_features(self, reference_year: int) -> None:
        """Fit the default feature steps on this year's frame ahead of the training (an early read).

        The training takes them (`take_prepared`) when it builds the same steps for the same frame
        (`ml.training.PreparedFeatures.fits`), instead of fitting them itself.
        """
        if reference_year not in self.prepared:
            self.prepared[reference_year] = ml_training.prepare_features(self.frame(reference_year))

    def take_prepared(self, reference_year: int) -> Any | None:
        """The feature steps an early read fitted for this year, once (None when none were)."""
        return self.prepared.pop(reference_year, None)


def in_id_order(ids: np.ndarray, table: pa.Table) -> CandidateColumns:
    # A heap scan usually returns rows in id order already; sort only when it did not, so the
    # same data always reaches training in the same order (same data + seed -> same model).
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, table = ids[order], table.take(pa.array(order))
    return CandidateColumns(ids=ids, table=table)


def start_early_read(database_uri: str, *, reference_year: int | None = None) -> bool:
    """Start reading every candidate's feature columns now, on a thread of its own (PostgreSQL).

    For a process that will train and has not built its app yet (`adflux train-segments`): the
    COPY runs on the server and Arrow parses it while this thread imports and builds the rest;
    `read_candidate_columns` then takes the result instead of reading again. The read is the
    same snapshot-consistent read, started a few seconds earlier. With `reference_year` the
    thread goes on to build the model's input frame for that year (`CandidateColumns.frame`) and
    to fit the default feature steps on it (`CandidateColumns.prepare_features`): Arrow, NumPy and
    SciPy work, much of it without the GIL the importing thread holds. False (and nothing
    started) for another database, or when a read of it is already under way. A failed early
    read is logged and read again.
    """
    url = make_url(database_uri)
    if url.get_backend_name() != "postgresql":
        return False
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    future: Future[CandidateColumns] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        if reference_year is not None:
            # The frame needs pandas (~0.6 s to import): imported while the server runs the COPY.
            threading.Thread(
                target=_import_quietly, args=("pandas",), name="pandas-import", daemon=True
            ).start()
        try:
            columns = in_id_order(*finish_postgresql(read_postgresql(_url_connect(conninfo))))
        except BaseException as exc:  # handed to the taker, who reads again
            future.set_exception(exc)
            return
        if reference_year is not None:
            try:
                columns.prepare_features(reference_year)
            except Exception:  # the training builds what is missing itself
                logger.warning("preparing the model's input ahead failed", exc_info=True)
        future.set_result(columns)

    with _early_lock:
        key = _url_key(database_uri)
        if key in _early_reads:
            return False
        _early_reads[key] = future
    threading.Thread(target=run, name="segmentation-early-read", daemon=True).start()
    return True


def _import_quietly(name: str) -> None:
    """Import `name` ahead of its first use; a failure is met again (and raised) there."""
    try:
        importlib.import_module(name)
    except Exception:  # pragma: no cover - the caller's own import raises it
        logger.debug("importing %s ahead failed", name, exc_info=True)


_early_lock = threading.Lock()
_early_reads: dict[str, Future[CandidateColumns]] = {}


def _url_key(database_uri: Any) -> str:
    url = make_url(database_uri) if isinstance(database_uri, str) else database_uri
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


def take_early_read(url: URL) -> CandidateColumns | None:
    """The early read of the database at `url`, once (None when none was started or it failed)."""
    with _early_lock:
        future = _early_reads.pop(_url_key(url), None)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        logger.warning("the early candidate read failed; reading again", exc_info=True)
        return None


def _url_connect(conninfo: str) -> Connect:
    @contextmanager
    def connect() -> Iterator[Any]:
        with psycopg.connect(conninfo) as conn:
            yield conn

    return connect


def read_postgresql(connect: Connect) -> pa.Table:
    """Every candidate's feature columns as COPY renders them (skills still as text)."""
    query = f"SELECT {PG_SELECT} FROM candidates"
    pages = _relation_pages(connect, "candidates")
    streams = PARALLEL_READ_STREAMS if pages >= PARALLEL_READ_MIN_PAGES else 1
    if streams == 1:
        return copy_out_csv(query, PG_TYPES, connect=connect)
    return _copy_out_parallel(query, PG_TYPES, pages, streams, connect)


def finish_postgresql(table: pa.Table) -> tuple[np.ndarray, pa.Table]:
    ids = int_column(table, "id")
    skills = joined_skills(table.column("skills_text"), table.column("skills_json"), SKILLS_SEPARATOR)
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
                pool.map(lambda q: copy_out_csv(q, types, connect=connect, snapshot=snapshot), ranges)
            )
        leader_conn.rollback()
    return pa.concat_tables(parts)


def copy_out_csv(
    query: str,
    types: dict[str, pa.DataType],
    *,
    connect: Connect,
    snapshot: str | None = None,
) -> pa.Table:
    """Run `COPY (query) TO STDOUT (FORMAT CSV)` on a connection of `connect` and parse it with Arrow."""
    with connect() as conn:
        with conn.cursor() as cur:
            if snapshot is not None:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        # One growing buffer, straight from libpq (`copy_reader`: no per-row Python).
        buffer = copy_out(conn, f"COPY ({query}) TO STDOUT (FORMAT CSV)")
        conn.rollback()  # end the read-only transaction psycopg opened, if any
    return parse_copy_csv(buffer, types)


def parse_copy_csv(buffer: bytearray | bytes, types: dict[str, pa.DataType]) -> pa.Table:
    """What `COPY ... TO STDOUT (FORMAT CSV)` wrote, as an Arrow table of `types` (Arrow's C++ reader)."""
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


def int_column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=np.int64)


def start_for_training(settings: Settings, *, reference_year: int) -> bool:
    """Start the early read a training in this process will take (`start_early_read`).

    Nothing is started (False) when a Celery worker trains instead (a broker is configured), when
    the base is large enough to be trained in two streamed passes (`streams_at`: never read whole
    into memory), when the database is not PostgreSQL or cannot be reached, or when a read of it
    is already under way.
    """
    if settings.celery_broker_url or early_read_started(settings.database_uri):
        return False
    try:
        if streams_at(settings.database_uri, settings.segmentation_streaming_rows):
            return False
    except psycopg.Error:  # no read ahead: the training meets the database itself, and says so
        return False
    return start_early_read(settings.database_uri, reference_year=reference_year)


def early_read_started(database_uri: str) -> bool:
    """Whether an early read of this database is under way or waiting to be taken."""
    with _early_lock:
        return _url_key(database_uri) in _early_reads


def streams_at(database_uri: str, threshold: int) -> bool:
    """Whether a training on this database will stream, asked before any app exists (the CLI, so
    that it does not start reading every candidate into memory for a base this large)."""
    url = make_url(database_uri)
    if threshold <= 0 or url.get_backend_name() != "postgresql":
        return False
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        return estimate_rows(conn) >= threshold


def estimate_rows(conn: Any) -> int:
    """The planner's count of candidates (an exact count when the table was never analysed)."""
    with conn.cursor() as cur:
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'candidates'::regclass")
        estimate = int(cur.fetchone()[0])
        if estimate < 0:  # never vacuumed nor analysed
            cur.execute("SELECT count(*) FROM candidates")
            estimate = int(cur.fetchone()[0])
    return estimate
