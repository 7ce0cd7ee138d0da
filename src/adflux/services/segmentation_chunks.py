"""Reading candidates from PostgreSQL in bounded chunks, for bases too large to hold in memory.

Every read of one training imports the same exported snapshot (as `pg_dump --jobs` does), so the
sample read first and the chunks read afterwards see exactly the same candidates, each once,
while others write. Chunks are block (ctid) ranges of the candidates heap sized from its rows per
page: a sequential read per chunk, no index. The sample is chosen by a hash of the candidate id
(`hashint8extended(id, 0)`), so the same candidates are drawn whatever the training seed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import numpy as np
import pyarrow as pa
from psycopg import sql
from sqlalchemy import Engine

from adflux.ml.features import SOURCE_COLUMNS
from adflux.ml.skills_lists import joined_skills
from adflux.models.skills_text import SEPARATOR as SKILLS_SEPARATOR
from adflux.services.candidate_read import (
    PG_SELECT,
    PG_TYPES,
    CandidateColumns,
    copy_out_csv,
    estimate_rows,
    int_column,
    parse_copy_csv,
)
from adflux.services.copy_reader import copy_out
from adflux.services.segmentation_data import _copy_out_int64, _driver_connection, _engine_connect

logger = logging.getLogger(__name__)

# The sample takes the candidates whose id hash falls below a cut on this many buckets.
HASH_BUCKETS = 1 << 20
# Parallel COPY streams (the database renders rows on one core while this process parses on the other).
READ_STREAMS = 2


@dataclass(frozen=True)
class Heap:
    """The candidates heap as one training sees it: its exported snapshot and size in blocks."""

    engine: Engine
    snapshot: str
    pages: int  # blocks of the candidates heap
    rows: int  # the planner's count of candidates (`estimated_candidates`); the reads count exactly


@contextmanager
def snapshot_heap(engine: Engine, rows: int) -> Iterator[Heap]:
    """Export one snapshot (held until the block ends) and measure the candidates heap."""
    raw = engine.raw_connection()
    try:
        conn = _driver_connection(raw)
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = str(cur.fetchone()[0])
            cur.execute("SELECT pg_relation_size('candidates') / current_setting('block_size')::int")
            pages = int(cur.fetchone()[0])
        yield Heap(engine=engine, snapshot=snapshot, pages=pages, rows=rows)
        conn.rollback()
    finally:
        raw.close()


def read_window(heap: Heap) -> dict[str, Any]:
    """How many candidates the snapshot holds and when the first and last were created (a full scan:
    run it beside the sample read)."""
    raw = heap.engine.raw_connection()
    try:
        conn = _driver_connection(raw)
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(heap.snapshot)))
            cur.execute("SELECT count(*), min(created_at), max(created_at) FROM candidates")
            rows, first, last = cur.fetchone()
        conn.rollback()
    finally:
        raw.close()
    return {
        "candidates": int(rows),
        "first_created_at": first.astimezone(UTC).isoformat() if first else None,
        "last_created_at": last.astimezone(UTC).isoformat() if last else None,
    }


def session_connection(session: Any) -> Any:
    """The psycopg connection behind a SQLAlchemy session (its transaction): COPY needs the driver's API."""
    return _driver_connection(session.connection().connection)


def estimated_candidates(engine: Engine) -> int:
    """The planner's count of candidates (exact after ANALYZE), counted when never analysed."""
    raw = engine.raw_connection()
    try:
        conn = _driver_connection(raw)
        estimate = estimate_rows(conn)
        conn.rollback()
    finally:
        raw.close()
    return estimate


def sample_cut(rows: int, sample_rows: int) -> int:
    """How many of `HASH_BUCKETS` the sample takes to hold about `sample_rows` of `rows` candidates.

    A power of two (the sample holds 0.7–1.4× `sample_rows`): the planner's count moves a little
    with every ANALYZE, and the same seed on the same base should fit on the same candidates.
    """
    wanted = HASH_BUCKETS * sample_rows / max(rows, 1)
    return int(min(HASH_BUCKETS, 2 ** max(0, round(math.log2(max(wanted, 1.0))))))


def sample_filter(column: str, cut: int) -> str:
    """SQL condition: the candidate id in `column` is in the hash sample."""
    return f"(hashint8extended({column}, 0) & {HASH_BUCKETS - 1}) < {int(cut)}"


def read_sample(heap: Heap, cut: int) -> CandidateColumns:
    """The sampled candidates' feature columns, in id order (parallel streams over the heap)."""
    bounds = [heap.pages * i // READ_STREAMS for i in range(READ_STREAMS + 1)]
    ranges = [(bounds[i], bounds[i + 1] if i < READ_STREAMS - 1 else None) for i in range(READ_STREAMS)]
    with ThreadPoolExecutor(max_workers=READ_STREAMS, thread_name_prefix="sample-read") as pool:
        parts = list(pool.map(lambda r: _read_range(heap, r[0], r[1], sample_filter("id", cut)), ranges))
    ids = np.concatenate([part.ids for part in parts])
    # Each part's skills are dictionary-encoded on its own lists (Arrow cannot unify list
    # dictionaries): decoded, the sample's parts concatenate.
    table = pa.concat_tables([_decoded_skills(part.table) for part in parts]).combine_chunks()
    order = np.argsort(ids, kind="stable")
    return CandidateColumns(ids=ids[order], table=table.take(pa.array(order)))


def _decoded_skills(table: pa.Table) -> pa.Table:
    index = table.column_names.index("skills")
    skills = table.column(index)
    if pa.types.is_dictionary(skills.type):
        decoded = pa.chunked_array([chunk.dictionary_decode() for chunk in skills.chunks])
        table = table.set_column(index, "skills", decoded)
    return table


def read_pairs(heap: Heap, query: str) -> tuple[np.ndarray, np.ndarray]:
    """Two integer columns of `query` in the training's snapshot (personas, old assignments)."""
    pair = f"SELECT a::int8, b::int8 FROM ({query}) AS pair(a, b)"
    first, second = _copy_out_int64(pair, 2, heap.engine, heap.snapshot)
    return first, second


def chunk_ranges(pages: int, rows: int, chunk_rows: int) -> list[tuple[int, int | None]]:
    """Block ranges of about `chunk_rows` candidates each (from the heap's rows per block); the last
    is open-ended."""
    step = max(1, int(chunk_rows * max(pages, 1) / max(rows, 1)))
    starts = list(range(0, max(pages, 1), step))
    return [(start, starts[i + 1] if i + 1 < len(starts) else None) for i, start in enumerate(starts)]


def heap_size(cur: Any) -> tuple[int, int]:
    """(blocks, rows) of the candidates heap, on a cursor of the caller's transaction."""
    cur.execute(
        "SELECT pg_relation_size('candidates') / current_setting('block_size')::int, count(*) FROM candidates"
    )
    pages, rows = cur.fetchone()
    return int(pages), int(rows)


def read_chunk(conn: Any, block_range: tuple[int, int | None]) -> CandidateColumns:
    """The candidates in one block range, read on `conn` (a psycopg connection, in its transaction)."""
    buffer = copy_out(conn, f"COPY ({_range_query(*block_range, None)}) TO STDOUT (FORMAT CSV)")
    return _columns(_parse_csv(buffer))


def _range_query(start: int, stop: int | None, condition: str | None) -> str:
    conditions = [f"ctid >= '({int(start)},0)'::tid"] if start > 0 else []
    if stop is not None:
        conditions.append(f"ctid < '({int(stop)},0)'::tid")
    if condition:
        conditions.append(condition)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {PG_SELECT} FROM candidates{where}"


def _parse_csv(buffer: bytearray) -> pa.Table:
    return parse_copy_csv(buffer, PG_TYPES)


def _read_range(heap: Heap, start: int, stop: int | None, condition: str | None) -> CandidateColumns:
    query = _range_query(start, stop, condition)
    connect = _engine_connect(heap.engine)
    return _columns(copy_out_csv(query, PG_TYPES, connect=connect, snapshot=heap.snapshot))


def _columns(table: Any) -> CandidateColumns:
    """The COPY's columns as the model reads them (skills split from their joined text)."""
    ids = int_column(table, "id")
    skills = joined_skills(table.column("skills_text"), table.column("skills_json"), SKILLS_SEPARATOR)
    table = table.drop_columns(["skills_text", "skills_json"]).append_column("skills", skills)
    return CandidateColumns(ids=ids, table=table.select(list(SOURCE_COLUMNS)))
