"""Run a fixed Core SELECT on the driver's connection: the rows without SQLAlchemy's per-call work.

A list endpoint runs the same few statements on every request. Through `Session.execute` each
run pays for the ORM's execution plumbing, the statement's cache key, the compiled-cache
lookup, a result object and a Row per row: ~250-600 µs of CPU per statement here, against
~100 µs for the driver itself (bench/README.md, "HTTP under load", 2026-12-07). `rows` compiles a
statement once per process (it must be built once too: a module-level or cached Select) and
then hands its SQL text to psycopg as a prepared statement, on the session's own connection (the
request's transaction, or its autocommit connection under `@reads_only`), and returns plain
tuples converted exactly as SQLAlchemy's result would convert them (the column types' result
processors: UTC datetimes, say).

What SQLAlchemy does around a statement still happens: the engine's before/after cursor events
fire (Prometheus' query timer, statement counters in tests and benches), and a driver error is
handled by the connection as its own (wrapped as SQLAlchemy's exception, a dead connection
invalidated, so the caller sees a 503 as before). Other databases than PostgreSQL (the embedded
SQLite) take `Session.execute`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select

from adflux.extensions import db

_Processor = Callable[[Any], Any]


class _Compiled(NamedTuple):
    sql: str
    params: dict[str, Any]
    bind_processors: dict[str, _Processor]
    keys: tuple[str, ...]
    types: tuple[Any, ...]
    # Each column's result processor, from its type and the driver's type code (known once run).
    processors: list[tuple[int, _Processor]]
    statement: Select[Any]  # kept alive: the cache is keyed by its id()


_compiled: dict[int, _Compiled] = {}
_lock = threading.Lock()
MAX_STATEMENTS = 512


def rows(stmt: Select[Any], params: Mapping[str, Any] | None = None) -> tuple[tuple[str, ...], list[Any]]:
    """(column labels, rows as tuples) of `stmt` with `params`, on this request's connection."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        result = session.execute(stmt, dict(params or {}))
        return tuple(result.keys()), [tuple(row) for row in result]
    compiled = _compile(stmt, connection.dialect)
    values = {**compiled.params, **(params or {})}
    for name, process in compiled.bind_processors.items():
        values[name] = process(values[name])
    dbapi_connection: Any = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        events = connection._has_events or connection.engine._has_events
        if events:  # Prometheus' query timer, statement counters
            connection.dispatch.before_cursor_execute(connection, cursor, compiled.sql, values, None, False)
        cursor.execute(compiled.sql, values, prepare=True)
        fetched = cursor.fetchall()
        if not compiled.processors and cursor.description is not None:
            compiled.processors[:] = _processors(compiled.types, cursor.description, connection.dialect)
        if events:
            connection.dispatch.after_cursor_execute(connection, cursor, compiled.sql, values, None, False)
    except dbapi_connection.Error as error:
        connection._handle_dbapi_exception(error, compiled.sql, values, cursor, None)
        raise  # not reached: the connection raises SQLAlchemy's exception
    finally:
        cursor.close()
    processors = [p for p in compiled.processors if p[1] is not _NONE]
    if processors:
        fetched = [_processed(row, processors) for row in fetched]
    return compiled.keys, fetched


def dicts(stmt: Select[Any], params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """`rows` as one dict per row, keyed by the columns' labels."""
    keys, found = rows(stmt, params)
    return [dict(zip(keys, row, strict=True)) for row in found]


def _processors(
    types: Sequence[Any], description: Sequence[Any], dialect: Any
) -> list[tuple[int, _Processor]]:
    found: list[tuple[int, _Processor]] = [(-1, _NONE)]  # never empty once computed
    for index, (type_, column) in enumerate(zip(types, description, strict=True)):
        process = type_._cached_result_processor(dialect, column.type_code)
        if process is not None:
            found.append((index, process))
    return found


def _none(value: Any) -> Any:
    return value


_NONE: _Processor = _none


def _processed(row: Sequence[Any], processors: list[tuple[int, _Processor]]) -> list[Any]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return values


def _compile(stmt: Select[Any], dialect: Any) -> _Compiled:
    found = _compiled.get(id(stmt))
    if found is not None and found.statement is stmt:
        return found
    compiled: Any = stmt.compile(dialect=dialect)
    if (
        compiled.positional
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
    ):
        raise ValueError("direct_reads needs a statement whose SQL text does not depend on its values")
    columns = compiled._result_columns
    entry = _Compiled(
        sql=compiled.string,
        params=compiled.construct_params(_check=False),
        bind_processors=dict(compiled._bind_processors),
        keys=tuple(column.keyname for column in columns),
        types=tuple(column.type for column in columns),
        processors=[],
        statement=stmt,
    )
    with _lock:
        if len(_compiled) >= MAX_STATEMENTS:
            _compiled.clear()
        _compiled[id(stmt)] = entry
    return entry
