"""Per-minute request statistics shared by every web process: the alert window's data.

Why a table: the error-rate and latency alerts need totals over the last few minutes across all
gunicorn workers on all machines. Prometheus counters are per process (and multiprocess files
per machine); Redis is not there in the embedded mode. So each process adds up its requests per
(minute, route) in memory and every FLUSH_SECONDS upserts the sums into `request_stats` — one
small write per process per interval, done after the response has been sent
(`response.call_on_close`), so no request waits for it.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import RequestStat
from adflux.models import RequestStat as R

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 15.0
# A process that cannot write (database down) keeps at most this many (minute, route) sums.
MAX_PENDING_KEYS = 5_000


class _Buffer:
    """One app's pending sums (one app per process in production; tests build several)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.pending: dict[tuple[int, str], list[float]] = {}
        self.last_flush = time.monotonic()
        self.flushing = False
        self.last_error_logged = 0.0


_EXTENSION = "adflux_request_stats"
_buffers: list[_Buffer] = []
_buffers_lock = threading.Lock()


def _buffer_for(app: Flask) -> _Buffer:
    buffer = app.extensions.get(_EXTENSION)
    if buffer is None:
        with _buffers_lock:
            buffer = app.extensions.get(_EXTENSION)
            if buffer is None:
                buffer = app.extensions[_EXTENSION] = _Buffer(app)
                if not _buffers:
                    atexit.register(_flush_at_exit)
                _buffers.append(buffer)
    return buffer


class ClosingAnswer(Protocol):
    """An answer that runs functions once sent: Werkzeug's Response, or the job list fast path's."""

    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]: ...


def record(
    response: ClosingAnswer, *, method: str, route: str, status: int, seconds: float, app: Flask | None = None
) -> None:
    """Add one answered request to this process's sums; schedule a flush when one is due."""
    buffer = _buffer_for(app or current_app._get_current_object())  # type: ignore[attr-defined]
    minute = int(time.time() // 60 * 60)
    key = (minute, f"{method} {route}"[:200])
    with buffer.lock:
        sums = buffer.pending.get(key)
        if sums is None:
            if len(buffer.pending) >= MAX_PENDING_KEYS:
                return  # the database has been unreachable for a long time; drop, do not grow
            sums = buffer.pending[key] = [0, 0, 0.0]
        sums[0] += 1
        sums[1] += status >= 500
        sums[2] += seconds
        due = not buffer.flushing and time.monotonic() - buffer.last_flush >= FLUSH_SECONDS
        if due:
            buffer.flushing = True
    if due:
        response.call_on_close(lambda: _flush(buffer))


def flush(app: Flask | None = None) -> int:
    """Write the app's pending sums to the table now; returns the number of rows upserted."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return _flush(_buffer_for(app))


def _flush(buffer: _Buffer, *, at_exit: bool = False) -> int:
    with buffer.lock:
        pending, buffer.pending = buffer.pending, {}
        buffer.last_flush = time.monotonic()
    try:
        if not pending:
            return 0
        with buffer.app.app_context():
            _upsert(pending)
        return len(pending)
    except Exception as exc:
        if at_exit:  # shutting down: losing the last seconds of counts is not worth a warning
            logger.debug("request stats not written at exit: %s", exc)
            return 0
        _restore(buffer, pending)
        now = time.monotonic()
        if now - buffer.last_error_logged > 300:  # once per five minutes, not once per request
            buffer.last_error_logged = now
            logger.warning("request stats not written (will retry): %s", str(exc).splitlines()[0][:200])
        return 0
    finally:
        buffer.flushing = False


def _restore(buffer: _Buffer, pending: dict[tuple[int, str], list[float]]) -> None:
    with buffer.lock:
        for key, sums in pending.items():
            if key not in buffer.pending and len(buffer.pending) >= MAX_PENDING_KEYS:
                continue
            current = buffer.pending.setdefault(key, [0, 0, 0.0])
            for i in range(3):
                current[i] += sums[i]


def _upsert(pending: dict[tuple[int, str], list[float]]) -> None:

    table = RequestStat.__table__
    rows = [
        {
            "minute": datetime.fromtimestamp(minute, UTC),
            "route": route,
            "requests": int(sums[0]),
            "errors": int(sums[1]),
            "duration_seconds": float(sums[2]),
        }
        for (minute, route), sums in pending.items()
    ]
    dialect = db.engine.dialect.name
    if dialect in ("postgresql", "sqlite"):
        stmt: PostgresInsert | SqliteInsert
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgres_insert

            stmt = postgres_insert(table)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.minute, table.c.route],
            set_={
                "requests": table.c.requests + stmt.excluded.requests,
                "errors": table.c.errors + stmt.excluded.errors,
                "duration_seconds": table.c.duration_seconds + stmt.excluded.duration_seconds,
            },
        )
        with db.engine.begin() as conn:
            conn.execute(stmt, rows)
        return
    with db.engine.begin() as conn:  # pragma: no cover - other databases: update, then insert
        for row in rows:
            updated = conn.execute(
                table.update()
                .where(table.c.minute == row["minute"], table.c.route == row["route"])
                .values(
                    requests=table.c.requests + row["requests"],
                    errors=table.c.errors + row["errors"],
                    duration_seconds=table.c.duration_seconds + row["duration_seconds"],
                )
            )
            if not updated.rowcount:
                conn.execute(table.insert().values(**row))


def _flush_at_exit() -> None:
    # At interpreter exit a log handler's stream may already be closed (a test runner's capture,
    # a rotated file): a record about the last flush is then dropped quietly, not printed as a
    # "Logging error" traceback on stderr.
    raise_exceptions, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        for buffer in list(_buffers):
            if buffer.pending:
                _flush(buffer, at_exit=True)
    finally:
        logging.raiseExceptions = raise_exceptions


def reset(app: Flask | None = None) -> None:
    """Forget pending sums (tests)."""
    buffer = _buffer_for(app or current_app._get_current_object())  # type: ignore[attr-defined]
    with buffer.lock:
        buffer.pending.clear()
        buffer.flushing = False
        buffer.last_flush = time.monotonic()


def window_totals(*, minutes: int, now: datetime | None = None) -> dict[str, Any]:
    """Requests, 5xx errors and total seconds over the last `minutes` minutes, with the worst routes."""

    now = now or datetime.now(UTC)
    since = now - timedelta(minutes=minutes)
    with db.engine.connect() as conn:
        requests, errors, seconds = conn.execute(
            select(
                func.coalesce(func.sum(R.requests), 0),
                func.coalesce(func.sum(R.errors), 0),
                func.coalesce(func.sum(R.duration_seconds), 0.0),
            ).where(R.minute >= since)
        ).one()
        worst = conn.execute(
            select(R.route, func.sum(R.requests), func.sum(R.errors), func.sum(R.duration_seconds))
            .where(R.minute >= since)
            .group_by(R.route)
            .order_by(func.sum(R.errors).desc(), func.sum(R.duration_seconds).desc())
            .limit(5)
        ).all()
    return {
        "requests": int(requests),
        "errors": int(errors),
        "seconds": float(seconds),
        "routes": [
            {"route": route, "requests": int(n), "errors": int(e), "avg_seconds": float(s) / max(int(n), 1)}
            for route, n, e, s in worst
        ],
    }
