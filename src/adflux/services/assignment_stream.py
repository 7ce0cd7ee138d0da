"""Assigning every candidate chunk by chunk on the training's own connection: a reader thread COPYs
chunk i+1 out while the caller labels chunk i and a writer thread COPYs chunk i-1's assignments in.

All of it runs in the session's transaction (the caller commits or rolls back), on its one psycopg
connection, whose lock serialises the two COPYs: the database reads and writes on one core while
this process parses and predicts on the other. Queues of `depth` chunks keep memory flat.

The same rules as `assignment_copy` (read its docstring): candidates are locked in SHARE mode
before the first chunk is read, so the chunks are exactly the candidates there are, each once, and
none can be deleted before commit (no orphan check needed). On the partitioned table (migration
0033) the tables' owner COPYs the chunks into the version's own standalone table and attaches it at
the end (key, index, then the foreign keys checked on its rows only: `assignment_partitions`).
On a plain table the owner locks candidate_segments, drops its foreign keys for the COPYs and adds
them back at the end (each validated over the whole table by one query); dropping a key locks
candidates ACCESS EXCLUSIVE until commit: that is why the chunks are read on this connection and
not on others. Any other role's rows are each checked by the triggers.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql

from adflux.services import assignment_partitions as partitions
from adflux.services.assignment_copy import (
    _ASSIGNMENT_ROW,
    _COPY_IN,
    _PGCOPY_HEADER,
    _PGCOPY_TRAILER,
    _add_foreign_keys,
    _drop_foreign_keys,
    write_mode,
)
from adflux.services.segmentation_chunks import chunk_ranges, heap_size, read_chunk

if TYPE_CHECKING:
    from adflux.services.candidate_read import CandidateColumns

logger = logging.getLogger(__name__)

Labeller = Callable[["CandidateColumns"], np.ndarray]  # a chunk -> each candidate's segment id
_DONE: Any = object()


@dataclass
class StreamTotals:
    """What one streamed write did."""

    mode: str = ""
    rows: int = 0
    chunks: int = 0
    largest_chunk: int = 0
    planned_chunks: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def stream_assignments(
    raw: Any, model_id: int, label: Labeller, *, chunk_rows: int, depth: int = 1
) -> StreamTotals:
    """Read, label and write every candidate's assignment to `model_id`, chunk by chunk."""
    totals = StreamTotals()
    target: str | None = None  # the version's own partition-to-be (partitioned table, owner)
    with raw.cursor() as cur:
        totals.mode = write_mode(cur)
        cur.execute("LOCK TABLE candidates IN SHARE MODE")
        keys: list[tuple[str, str]] = []
        if totals.mode == "owner" and partitions.can_attach(cur):
            target = partitions.create_standalone(cur, model_id, indexed=True)
        elif totals.mode == "owner":
            cur.execute("LOCK TABLE candidate_segments IN ACCESS EXCLUSIVE MODE")
            keys = _drop_foreign_keys(cur)
        pages, rows = heap_size(cur)
    ranges = chunk_ranges(pages, rows, chunk_rows)
    totals.planned_chunks = len(ranges)
    copy_in = partitions.copy_statement(target) if target else sql.SQL(_COPY_IN)
    started = time.perf_counter()
    _Pipeline(raw, model_id, depth, copy_in).run(ranges, label, totals)
    totals.timings["copy"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    with raw.cursor() as cur:
        if target:
            totals.timings.update(partitions.attach(cur, model_id, target, indexed=True))
        elif totals.mode == "owner":
            _add_foreign_keys(cur, keys)
    totals.timings["keys"] = round(time.perf_counter() - started, 3)
    logger.info(
        "wrote %d assignments of model %s in %d chunks (%s, streamed)",
        totals.rows,
        model_id,
        totals.chunks,
        totals.mode,
    )
    return totals


class _Pipeline:
    """The reader and writer threads around the caller's labelling loop; the first error stops all."""

    def __init__(self, raw: Any, model_id: int, depth: int, copy_in: sql.Composable) -> None:
        self.raw, self.model_id, self.copy_in = raw, model_id, copy_in
        self.read: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.write: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def run(self, ranges: list[tuple[int, int | None]], label: Labeller, totals: StreamTotals) -> None:
        reader = threading.Thread(target=self._reader, args=(ranges,), name="chunk-reader", daemon=True)
        writer = threading.Thread(target=self._writer, name="chunk-writer", daemon=True)
        reader.start()
        writer.start()
        try:
            while (chunk := self._get(self.read)) is not _DONE:
                segment_ids = label(chunk)
                self._put(self.write, (chunk.ids, segment_ids))
                totals.rows += len(chunk)
                totals.chunks += 1
                totals.largest_chunk = max(totals.largest_chunk, len(chunk))
            self._put(self.write, _DONE)
        except BaseException as exc:
            self._fail(exc)
        reader.join()
        writer.join()
        if self.errors:
            raise self.errors[0]

    def _reader(self, ranges: list[tuple[int, int | None]]) -> None:
        try:
            for block_range in ranges:
                self._put(self.read, read_chunk(self.raw, block_range))
            self._put(self.read, _DONE)
        except BaseException as exc:
            self._fail(exc)

    def _writer(self) -> None:
        try:
            while (item := self._get(self.write)) is not _DONE:
                with (
                    self.raw.cursor() as cur,
                    cur.copy(self.copy_in) as copy,
                ):
                    copy.write(_PGCOPY_HEADER + _rows(self.model_id, *item) + _PGCOPY_TRAILER)
        except BaseException as exc:
            self._fail(exc)

    def _get(self, items: queue.Queue[Any]) -> Any:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                return items.get(timeout=0.1)
            except queue.Empty:
                continue

    def _put(self, items: queue.Queue[Any], item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, _Stopped):
            self.errors.append(exc)
        self.stop.set()


class _Stopped(Exception):
    """Another stage failed: this one stops."""


def _rows(model_id: int, candidate_ids: np.ndarray, segment_ids: np.ndarray) -> bytes:
    rows = np.empty(len(candidate_ids), dtype=_ASSIGNMENT_ROW)
    rows["fields"], rows["model_len"], rows["candidate_len"], rows["segment_len"] = 3, 4, 8, 4
    rows["model_id"] = model_id
    rows["candidate_id"] = candidate_ids
    rows["segment_id"] = segment_ids
    return rows.tobytes()
