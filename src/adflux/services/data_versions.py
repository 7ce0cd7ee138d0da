"""Reading the data-version tokens the database keeps per table (see models/versions.py).

Read on every cached request, so it skips the ORM session (see `read_tokens`).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine

from adflux.extensions import db
from adflux.models.versions import VERSIONED_TABLES
from adflux.services import prepared_statements

__all__ = ["VERSIONED_TABLES", "read_tokens"]


def read_tokens(names: tuple[str, ...], engine: Engine | None = None) -> dict[str, str] | None:
    """The tokens of `names`, read on a pooled connection of its own, outside any transaction.

    `engine`: the app's (`db.engine`, which needs an app context) unless given — the cache-hit
    fast path (api/cached_list_hits) answers without one.

    This runs on every cached request, so it skips the ORM session: a connection checked out of
    the same pool (socket check included). On psycopg the statement goes straight through libpq
    (`_read_on_libpq`), prepared once per connection; other drivers use a DBAPI cursor. The lookup
    is not in the database-query metrics. If the database cannot answer, None: the view runs
    without the cache and meets the outage through the usual error handling (a 503).
    """
    if engine is None:
        engine = db.engine
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()
    except dbapi_error:
        return None
    try:
        driver = raw.driver_connection
        if driver is None:  # invalidated: this connection cannot answer either
            return None
        if hasattr(driver, "pgconn"):
            rows = _read_on_libpq(driver, raw.info, names)
        else:
            rows = _read_on_cursor(raw, engine.dialect.paramstyle, names)
    except dbapi_error:
        raw.invalidate()
        return None
    finally:
        raw.close()
    return dict(rows)


def _read_on_cursor(raw: Any, paramstyle: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    cursor = raw.cursor()
    cursor.execute(_token_sql(paramstyle, len(names)), names)
    rows = cursor.fetchall()
    cursor.close()
    return [(name, token) for name, token in rows]


def _read_on_libpq(driver: Any, info: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """psycopg's connection, through libpq itself: one prepared statement, no cursor, no BEGIN.

    Measured on the candidate list's cache hit: ~230 -> ~90 µs of CPU per lookup against a psycopg
    cursor (cursor, adaptation, autocommit switched on and off). Only on a connection idle outside
    a transaction (a pooled one, rolled back on check-in): the statement then runs in an implicit
    transaction of its own, as in autocommit, and psycopg's view of the connection (idle) stays
    true. psycopg itself sends DEALLOCATE ALL after a DROP or ALTER on the connection, so a
    statement the server no longer knows is prepared again; anything else unexpected raises the
    driver's error, so the connection is discarded.
    """
    import psycopg
    from psycopg import pq

    pgconn = driver.pgconn
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.OperationalError("data_versions: a pooled connection was not idle")
    name = f"adflux_data_versions_{len(names)}".encode()
    prepared = info.setdefault(_PREPARED_KEY, set())
    params: list[bytes | None] = [n.encode() for n in names]
    sql = _libpq_sql(len(names))
    result = prepared_statements.run(pgconn, prepared, name, sql, params, what="data_versions")
    return [(result.get_value(r, 0).decode(), result.get_value(r, 1).decode()) for r in range(result.ntuples)]


_PREPARED_KEY = "adflux_data_versions_prepared"


@functools.cache
def _libpq_sql(count: int) -> bytes:
    placeholders = ", ".join(f"${number}" for number in range(1, count + 1))
    return f"SELECT name, token FROM data_versions WHERE name IN ({placeholders})".encode()


@functools.cache
def _token_sql(paramstyle: str, count: int) -> str:
    placeholder = "?" if paramstyle == "qmark" else "%s"
    return f"SELECT name, token FROM data_versions WHERE name IN ({', '.join([placeholder] * count)})"
