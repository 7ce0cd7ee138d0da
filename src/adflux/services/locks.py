"""Cross-worker locks for work that must never run twice at once.

On PostgreSQL a session-level advisory lock on its own connection: if the worker holding it dies,
its connection closes and the lock goes with it, so a redelivered task can proceed. On SQLite
(one process, the embedded default) an in-process lock gives the same guarantee.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from adflux.extensions import db

_local_locks: dict[tuple[int, int], threading.Lock] = {}
_local_guard = threading.Lock()

NAMESPACES = {"publish": 1, "sync": 2, "training": 3, "settle": 4}


@contextmanager
def try_lock(namespace: str, key: int) -> Iterator[bool]:
    """Yield True if the lock (namespace, key) was acquired, False if someone else holds it."""
    ns = NAMESPACES[namespace]
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": ns, "key": key}
            ).scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": ns, "key": key})
                    conn.commit()
        return
    with _local_guard:
        lock = _local_locks.setdefault((ns, key), threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()
