"""The sandbox's own SQLite file: what every process of one installation shares.

One row per platform object, simulator unit, report job and report file, plus one header row with
the clock, the last id handed out and a generation counter. Each write bumps the generation and
stamps the rows it wrote with it, so a process that last looked at generation ``g`` reloads only
the rows with a higher one. Writers serialise on ``BEGIN IMMEDIATE``; WAL mode keeps a writer
from blocking readers of the last commit. The sandbox knows nothing of AdFlux's database: this
file is the platforms' side of the truth, as their own servers would be.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

# A report over thousands of units holds the write lock for a while; waiting beats failing.
BUSY_TIMEOUT_SECONDS = 15.0
# Ids from a store start far above those a memory-only sandbox hands out (its counter starts at 1
# in every process), so an id an AdFlux database kept from such a run never names a stored object.
FIRST_STORED_ID = 1_000_000

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS sandbox (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,           -- new on every reset: processes drop their copy and reload
    generation INTEGER NOT NULL,   -- the last write that changed rows
    today TEXT NOT NULL,           -- the simulated clock
    last_id INTEGER NOT NULL       -- the id counter (ids are unique across processes and restarts)
)""",
    """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,       -- creation order: listings page in it, in every process
    section TEXT NOT NULL,         -- object | unit | job | file
    platform TEXT NOT NULL,        -- '' for jobs and files
    kind TEXT NOT NULL,            -- the object's kind (campaign, adset, ...); '' otherwise
    key TEXT NOT NULL,             -- object id, ad group id, job id or file name
    body BLOB NOT NULL,            -- JSON text, or a file's bytes
    generation INTEGER NOT NULL,
    UNIQUE (section, platform, kind, key)
)""",
    "CREATE INDEX IF NOT EXISTS entries_by_generation ON entries (generation)",
)

_UPSERT = """
INSERT INTO entries (section, platform, kind, key, body, generation) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (section, platform, kind, key)
DO UPDATE SET body = excluded.body, generation = excluded.generation
"""


class StoreBusy(Exception):
    """Another process held the store longer than the busy timeout; the call may be retried."""


@dataclass(frozen=True)
class Header:
    """The store's single header row."""

    epoch: str
    generation: int
    today: date
    last_id: int


@dataclass(frozen=True)
class Entry:
    """One stored row: ``body`` is JSON text, or raw bytes for a file."""

    section: str
    platform: str
    kind: str
    key: str
    body: str | bytes


def encode(value: Any) -> str:
    """JSON text for an object or job; sets (hashed audience members) survive as sets."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_encode_set)


def decode(text: str | bytes) -> Any:
    """The inverse of :func:`encode`."""
    return json.loads(text, object_hook=_decode_set)


def _encode_set(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return {"__set__": sorted(value)}
    raise TypeError(f"the sandbox store cannot keep a {type(value).__name__}")


def _decode_set(data: dict[str, Any]) -> Any:
    if len(data) == 1 and "__set__" in data:
        return set(data["__set__"])
    return data


class SandboxStore:
    """One connection to the store file; the caller serialises its use (the state's lock)."""

    def __init__(self, path: str, *, today: date) -> None:
        self.path = path
        # Autocommit mode: transactions are begun and ended here, explicitly.
        self._db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL loses no committed write on a process crash, only on power loss.
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._begin()
        try:
            for statement in SCHEMA:
                self._db.execute(statement)
            self._db.execute(
                "INSERT OR IGNORE INTO sandbox (id, epoch, generation, today, last_id)"
                " VALUES (1, ?, 0, ?, ?)",
                (uuid.uuid4().hex, today.isoformat(), FIRST_STORED_ID),
            )
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def _begin(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreBusy(f"sandbox store {self.path} is busy: {exc}") from exc

    def begin(self) -> Header:
        """Start a write transaction (waiting for other writers) and read the header."""
        self._begin()
        try:
            epoch, generation, today, last_id = self._db.execute(
                "SELECT epoch, generation, today, last_id FROM sandbox WHERE id = 1"
            ).fetchone()
        except BaseException:
            self.rollback()
            raise
        return Header(epoch, generation, date.fromisoformat(today), last_id)

    def entries_since(self, generation: int) -> list[Entry]:
        """Rows written after ``generation``, in creation order."""
        # Without INDEXED BY the planner scans the whole table in seq order to skip the sort:
        # ~200 µs per request at a few thousand rows instead of a lookup of the few changed ones.
        rows = self._db.execute(
            "SELECT section, platform, kind, key, body FROM entries INDEXED BY entries_by_generation"
            " WHERE generation > ? ORDER BY seq",
            (generation,),
        )
        return [Entry(*row) for row in rows]

    def write(self, entries: list[Entry], generation: int, today: date, last_id: int) -> None:
        """Upsert rows (a row keeps its place in the creation order) and update the header."""
        self._db.executemany(
            _UPSERT,
            [(e.section, e.platform, e.kind, e.key, e.body, generation) for e in entries],
        )
        self._db.execute(
            "UPDATE sandbox SET generation = ?, today = ?, last_id = ? WHERE id = 1",
            (generation, today.isoformat(), last_id),
        )

    def clear(self) -> str:
        """Delete every row; a new epoch tells the other processes to drop their copies."""
        epoch = uuid.uuid4().hex
        self._db.execute("DELETE FROM entries")
        self._db.execute("UPDATE sandbox SET epoch = ?, generation = generation + 1 WHERE id = 1", (epoch,))
        return epoch

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        self._db.close()
