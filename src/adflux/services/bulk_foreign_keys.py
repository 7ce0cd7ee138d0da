"""A table's foreign keys set aside for a bulk load and added back after it, checked in one pass.

PostgreSQL's advice for populating a database: a foreign key checks each loaded row through a
trigger (a lookup and a share lock per row); adding the constraint after the load validates every
row with one join instead. Both happen inside the loader's transaction, so no reader ever sees
the table without its key, and a row that breaks it fails the load (and rolls it back).

Dropping a constraint needs the table's owner: for any other role the keys stay and the load pays
for the per-row checks, as before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

logger = logging.getLogger(__name__)


def set_aside(cur: Any, table: str) -> list[tuple[str, str]]:
    """Drop `table`'s foreign keys; their names and definitions (none if the role may not)."""
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        (table,),
    )
    keys = [(str(name), str(definition)) for name, definition in cur.fetchall()]
    cur.execute("SAVEPOINT adflux_bulk_foreign_keys")
    try:
        for name, _ in keys:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        cur.execute("ROLLBACK TO SAVEPOINT adflux_bulk_foreign_keys")
        return []
    cur.execute("RELEASE SAVEPOINT adflux_bulk_foreign_keys")
    return keys


def put_back(cur: Any, table: str, keys: list[tuple[str, str]]) -> None:
    """Add the keys back: each validates every row of `table` in one pass."""
    started = time.perf_counter()
    for name, definition in keys:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    if keys:
        logger.debug(
            "validated %d foreign keys of %s in %.2f s", len(keys), table, time.perf_counter() - started
        )
