"""The job list's page as JSON text built by PostgreSQL, on a connection this process keeps.

For `api/jobs_fast_path`: `GET /api/v1/jobs` filtered by status, category and modality only (the
common case) answered without Flask, the ORM session or the pool. One prepared statement per set
of filters returns the page's items already encoded — `row_to_json` of each row, its columns
those of `JobOpeningSchema` in key order, times as `datetime.isoformat` writes them — with the
table's data-version token and, when the token is not the one this process last counted under
for the same filters, the capped total (`versioned_counts`, shared with the Flask route). Python
adds the envelope; no per-row work is left to it.

The text is what the Flask route writes for the same rows (orjson, sorted keys, compact): both
escape `"`, `\\`, and control characters the same way (`\\n`, `\\u0001`, ...) and leave other
characters as UTF-8; tests/api/test_jobs_fast_path.py holds the two to equal bytes.

Each thread of a process keeps one autocommit psycopg connection, opened on first use after the
fork with the engine's own connect arguments, and dropped on any error (the next request opens a
new one). Statements go through libpq directly (`exec_prepared`, text values, no cursor).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.types import DateTime, Integer, String

from adflux.models import JobOpening
from adflux.monitoring import prometheus
from adflux.schemas.jobs import JobOpeningSchema
from adflux.services import prepared_statements, versioned_counts
from adflux.services.pagination import COUNT_CAP

logger = logging.getLogger(__name__)

TABLE = "job_openings"
FILTERS = ("status", "category", "modality")


@dataclass(frozen=True)
class JobPage:
    """A page's items as one JSON array's inner text, with what the envelope needs."""

    items: bytes
    total: int
    page: int
    page_size: int

    def body(self) -> bytes:
        """The whole answer, as the Flask route writes it (sorted keys, compact, a newline)."""
        pages = max(1, math.ceil(self.total / self.page_size))
        return b"".join(
            (
                b'{"items":[',
                self.items,
                b'],"next_cursor":null,"page":%d,"page_size":%d,"pages":%d,"total":%d,'
                b'"total_estimated":false}\n' % (self.page, self.page_size, pages, self.total),
            )
        )


def counted_as(filters: dict[str, str]) -> Hashable:
    """The key the Flask route's total is kept under (`jobs.list_jobs`: no city, no words)."""
    return (
        TABLE,
        ("jobs", filters.get("status"), None, filters.get("category"), filters.get("modality"), None),
    )


@functools.cache
def item_columns() -> tuple[tuple[str, str], ...]:
    """(key, SQL expression) per field the schema dumps, in sorted key order.

    Raises TypeError for a field this module cannot write as the schema would (the fast path is
    then off): only strings, integers and UTC times are known.
    """
    columns = {c.key: c for c in inspect(JobOpening).columns}
    schema = JobOpeningSchema()
    found = []
    for key in sorted(schema.dump_fields):
        field = schema.dump_fields[key]
        column = columns.get(field.attribute or key)
        kind = getattr(column.type, "impl", column.type) if column is not None else None
        if isinstance(kind, DateTime) and type(field).__name__ == "DateTime":
            name = f'"{column.name}"'  # type: ignore[union-attr]
            utc = f"({name} AT TIME ZONE 'UTC')"
            # isoformat: microseconds only when there are any, and the zone as +00:00.
            expr = (
                f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') = '000000'"
                f" THEN '' ELSE to_char({utc}, '.US') END || '+00:00'"
            )
        elif isinstance(kind, (String, Integer)) and type(field).__name__ in ("String", "Url", "Integer"):
            expr = f'"{column.name}"'  # type: ignore[union-attr]
        else:
            raise TypeError(f"job list fast path: field {key} ({type(field).__name__}) is not plain")
        found.append((key, expr))
    return tuple(found)


@functools.cache
def page_sql(status: bool, category: bool, modality: bool) -> tuple[bytes, bytes]:
    """(statement name, SQL) for one set of filters. Parameters: $1 limit, $2 offset, $3 the token
    this process counted under (NULL: count), then the filters' values in FILTERS order."""
    conditions = []
    number = 4
    for used, name in zip((status, category, modality), FILTERS, strict=True):
        if used:
            conditions.append(f'"{name}" = ${number}')
            number += 1
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    listed = ", ".join(f'{expr} AS "{key}"' for key, expr in item_columns())
    text = (
        f"WITH page AS (SELECT {listed} FROM {TABLE}{where} ORDER BY id DESC LIMIT $1 OFFSET $2), "
        f"version AS (SELECT (SELECT token FROM data_versions WHERE name = '{TABLE}') AS token) "
        "SELECT (SELECT string_agg(row_to_json(page)::text, ',' ORDER BY page.id DESC) FROM page), "
        f"CASE WHEN version.token = $3::text THEN NULL ELSE (SELECT count(*) FROM "
        f"(SELECT 1 FROM {TABLE}{where} LIMIT {COUNT_CAP + 1}) AS counted) END, version.token "
        "FROM version"
    )
    label = f"adflux_job_page_{int(status)}{int(category)}{int(modality)}"
    return label.encode(), text.encode()


_TOKEN_SQL = f"SELECT (SELECT token FROM data_versions WHERE name = '{TABLE}')".encode()


class _Connections(threading.local):
    connection: Any = None
    pid: int = 0
    prepared: set[bytes]

    def __init__(self) -> None:
        self.prepared = set()


class JobPageReader:
    """Reads job pages for one engine's database (one instance per app)."""

    def __init__(self, engine: Engine, *, timed: bool = True) -> None:
        self.engine = engine
        self.timed = timed  # page reads in the query-time metric (off when metrics are)
        self._local = _Connections()

    def read(self, filters: dict[str, str], *, page: int, page_size: int) -> JobPage | None:
        """The page, or None when the fast path should leave it to the Flask route (a total past
        COUNT_CAP, which the route estimates). Raises the driver's error on database trouble,
        after dropping the connection."""
        key = counted_as(filters)
        known = versioned_counts.known(key)
        params = [
            str(page_size).encode(),
            str((page - 1) * page_size).encode(),
            known.token.encode() if known is not None else None,
            *(filters[name].encode() for name in FILTERS if name in filters),
        ]
        name, sql = page_sql(*(name in filters for name in FILTERS))
        started = time.perf_counter()
        items, counted, token = self._run(name, sql, params)
        # As the route's statement is timed (the engine's cursor events; a token read is not).
        if self.timed:
            prometheus.observe_query("select", time.perf_counter() - started)
        if counted is None:
            if known is None:  # cannot happen: without a known token the count is not skipped
                return None
            total = known.total
        else:
            total = int(counted)
            if total > COUNT_CAP:
                return None
            if token is not None and items is not None:  # as the route: remembered from a page with rows
                versioned_counts.remember(key, token.decode(), total, False)
        return JobPage(items or b"", total, page, page_size)

    def token(self) -> str | None:
        """The job list's data-version token (None: the table has none yet)."""
        (token,) = self._run(b"adflux_job_page_token", _TOKEN_SQL, [])
        return token.decode() if token is not None else None

    def _run(self, name: bytes, sql: bytes, params: list[bytes | None]) -> list[Any]:
        """The one row of a prepared statement's answer, its values as bytes (None: NULL). On
        any error the connection is dropped and the error raised."""
        try:
            return self._run_prepared(name, sql, params)
        except Exception:
            self.drop()
            raise

    def _run_prepared(self, name: bytes, sql: bytes, params: list[bytes | None]) -> list[Any]:
        from psycopg import OperationalError

        pgconn = self._connection().pgconn
        result = prepared_statements.run(pgconn, self._local.prepared, name, sql, params, what="job page")
        if result.ntuples != 1:
            raise OperationalError(f"job page: {result.ntuples} rows, not one")
        return [result.get_value(0, column) for column in range(result.nfields)]

    def _connection(self) -> Any:
        local = self._local
        if local.connection is not None and local.pid == os.getpid() and not local.connection.closed:
            return local.connection
        import psycopg

        local.connection, local.pid, local.prepared = None, os.getpid(), set()  # a parent's: not ours
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        connection = psycopg.connect(*cargs, **cparams, autocommit=True)
        # The statements' plans do not depend on the values: without this PostgreSQL plans each
        # run again (a custom plan, ~250 µs: the page's total makes the generic plan look dearer).
        connection.execute("SET plan_cache_mode = force_generic_plan")
        local.connection = connection
        return connection

    def drop(self) -> None:
        """Close this thread's connection (the next read opens another)."""
        local = self._local
        connection, local.connection, local.prepared = local.connection, None, set()
        if connection is not None and local.pid == os.getpid():
            try:
                connection.close()
            except Exception as error:  # already broken: nothing to close cleanly
                logger.debug("job page connection not closed cleanly: %s", type(error).__name__)


def usable(engine: Engine) -> bool:
    """Whether this module can serve `engine`'s database (PostgreSQL through psycopg 3, and a
    schema whose fields it knows)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return False
    try:
        item_columns()
    except TypeError as error:
        logger.warning("%s", error)
        return False
    return True
