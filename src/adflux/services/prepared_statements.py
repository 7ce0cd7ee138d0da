"""One prepared statement run through libpq itself (no cursor, text values), prepared once per connection.

Shared by the data-version token lookup (`data_versions`) and the job list's page read
(`job_page_json`). psycopg sends DEALLOCATE ALL after a DROP or ALTER on the connection (and on
rollback), so a statement the server no longer knows is prepared again; anything else unexpected
raises the driver's error, and the caller discards the connection.
"""

from __future__ import annotations

from typing import Any

# invalid_sql_statement_name: "prepared statement ... does not exist"
UNKNOWN_STATEMENT = b"26000"


def run(
    pgconn: Any, prepared: set[bytes], name: bytes, sql: bytes, params: list[bytes | None], *, what: str
) -> Any:
    """The result (TUPLES_OK) of prepared statement `name` (`sql`) with `params` on `pgconn`.

    `prepared`: the names this connection has prepared, kept by the caller per connection.
    """
    import psycopg
    from psycopg import pq

    result = None
    if name in prepared:
        result = pgconn.exec_prepared(name, params)
        if result.error_field(pq.DiagnosticField.SQLSTATE) == UNKNOWN_STATEMENT:
            prepared.discard(name)
    if name not in prepared:
        if pgconn.prepare(name, sql).status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.OperationalError(f"{what}: prepare failed: {pgconn.error_message!r}")
        prepared.add(name)
        result = pgconn.exec_prepared(name, params)
    if result is None or result.status != pq.ExecStatus.TUPLES_OK:
        raise psycopg.OperationalError(f"{what}: read failed: {pgconn.error_message!r}")
    return result
