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
from sqlalchemy.exc import OperationalError

from adflux.catalogue import gettext as _
from adflux.constants import PLATFORMS
from adflux.extensions import db
from adflux.services.errors import ServiceUnavailable

_local_locks: dict[tuple[int, int], threading.Lock] = {}
_local_guard = threading.Lock()

NAMESPACES = {
    "publish": 1,
    "sync": 2,
    "training": 3,
    "settle": 4,
    "audience": 5,
    "feed": 6,
    "job": 7,
    "media": 8,
}


def _local_lock(ns: int, key: int) -> threading.Lock:
    """The in-process lock standing in for an advisory lock (SQLite: one process)."""
    with _local_guard:
        return _local_locks.setdefault((ns, key), threading.Lock())


@contextmanager
def hold_lock(namespace: str, key: int, *, timeout_s: float = 120.0) -> Iterator[None]:
    """Wait for the lock (namespace, key) and hold it; ServiceUnavailable after `timeout_s`.

    For look-up-then-create work that must converge on one object when workers race (the
    second one waits, then finds what the first one created).
    """
    ns = NAMESPACES[namespace]
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(
                text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{int(timeout_s * 1000)}"}
            )
            try:
                conn.execute(text("SELECT pg_advisory_lock(:ns, :key)"), {"ns": ns, "key": key})
            except OperationalError as exc:
                raise ServiceUnavailable(
                    _(
                        "Waited %(timeout_s)s s for another worker's %(namespace)s",
                        timeout_s=f"{timeout_s:.0f}",
                        namespace=namespace,
                    )
                ) from exc
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": ns, "key": key})
                conn.execute(text("SELECT set_config('lock_timeout', '0', false)"))
                conn.commit()
        return
    lock = _local_lock(ns, key)
    if not lock.acquire(timeout=timeout_s):
        raise ServiceUnavailable(
            _(
                "Waited %(timeout_s)s s for another %(namespace)s lock",
                timeout_s=f"{timeout_s:.0f}",
                namespace=namespace,
            )
        )
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_lock(namespace: str, key: int) -> Iterator[bool]:
    """Yield True if the lock (namespace, key) was acquired, False if someone else holds it."""
    ns = NAMESPACES[namespace]
    if db.engine.dialect.name == "postgresql":
        # Autocommit: a session-level lock needs no transaction (no BEGIN/COMMIT round trips).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": ns, "key": key}
            ).scalar()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": ns, "key": key})
        return
    lock = _local_lock(ns, key)
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


def audience_key(platform: str, segment_id: int) -> int:
    """The lock key of one segment's audience on one platform."""
    return segment_id * len(PLATFORMS) + PLATFORMS.index(platform)


def media_lock_key(platform: str, content_hash: str) -> int:
    """The lock key of one image on one platform (a rare collision only makes two uploads wait)."""
    return int(content_hash[:6], 16) * len(PLATFORMS) + PLATFORMS.index(platform)
