"""candidate_segments' per-version partitions on PostgreSQL: built standalone, attached, dropped.

Since migration 0033 candidate_segments is `PARTITION BY LIST (model_id)` with a DEFAULT
partition. A version written in bulk by the tables' owner gets a table of its own,
candidate_segments_m<id>: created with no keys and no indexes (only a CHECK that every row is
this version's, so attaching needs no scan of it), filled by binary COPY, given its primary key
and (segment_id, candidate_id) index and the parent's three foreign keys, then attached. Each key
is added to the standalone table under the parent's name and definition, so it is validated over
that version's rows only: one anti-join per key (RI_Initial_Check), never over the other versions'
rows. ATTACH then adopts the three as the parent's keys' clones without checking them again
(tryAttachPartitionForeignKey in tablecmds.c takes a validated key of the same definition), which
lets each check be planned on its own: the candidate key as a merge anti-join (the rows arrive in
candidate id order, the candidates' primary key is read in order), where the hash anti-join the
planner picks for all three hashes every candidate id (~0.7 s against ~0.35 s at 1M). A row
without its parent makes the ADD fail and the training's transaction roll back, table and all.

Pruning a version drops its partition: no DELETE, no dead rows. Rows of a version in the DEFAULT
partition (written row by row by another role, or one-off assignments) are deleted as before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

TABLE = "candidate_segments"
DEFAULT_PARTITION = "candidate_segments_default"
# Sorting 10M (segment_id, candidate_id) keys in memory instead of on disk (the session default
# is 64 MB); raised for this transaction only, never lowered.
_INDEX_MEMORY = "512MB"


def partition_name(model_id: int) -> str:
    return f"{TABLE}_m{int(model_id)}"


def can_attach(cur: Any) -> bool:
    """Whether the table is partitioned and this role (its owner) may create a table beside it.

    An owner without CREATE on the schema (or a table not yet migrated) takes the plain table's
    path: foreign keys dropped for the COPY and added back (checked over every version's rows).
    """
    cur.execute(
        "SELECT relkind = 'p' AND has_schema_privilege(relnamespace, 'CREATE') FROM pg_class"
        " WHERE oid = 'candidate_segments'::regclass"
    )
    row = cur.fetchone()
    return bool(row and row[0])


def create_standalone(cur: Any, model_id: int, *, indexed: bool = False) -> str:
    """A fresh table for the version's rows (an earlier partition of it is dropped); its name.

    `indexed`: its key and index made now, kept up as rows arrive (the streamed write: the COPYs
    overlap the labelling, so the upkeep costs less than sorting everything afterwards).
    """
    name = partition_name(model_id)
    drop_partition(cur, model_id)
    cur.execute(
        sql.SQL(
            "CREATE TABLE {} (LIKE candidate_segments INCLUDING DEFAULTS,"
            " CONSTRAINT {} CHECK (model_id = {}))"
        ).format(sql.Identifier(name), sql.Identifier(f"{name}_model"), sql.Literal(int(model_id)))
    )
    if indexed:
        for statement in _index_statements(name).values():
            cur.execute(statement)
    return name


def _index_statements(name: str) -> dict[str, sql.Composed]:
    table = sql.Identifier(name)
    return {
        "primary_key": sql.SQL(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (model_id, candidate_id)"
        ).format(table, sql.Identifier(f"{name}_pkey")),
        "index": sql.SQL("CREATE INDEX {} ON {} (segment_id, candidate_id)").format(
            sql.Identifier(f"{name}_segment_id_candidate_id"), table
        ),
    }


def copy_statement(name: str) -> sql.Composed:
    # FREEZE: the table was created in this transaction, so its rows go in frozen (no later
    # hint-bit writes or anti-wraparound rewrite of millions of rows).
    return sql.SQL("COPY {} (model_id, candidate_id, segment_id) FROM STDIN (FORMAT BINARY, FREEZE)").format(
        sql.Identifier(name)
    )


def drop_orphans(cur: Any, name: str) -> int:
    """Delete the rows of candidates deleted since they were read (before the keys are checked)."""
    cur.execute(
        sql.SQL(
            "DELETE FROM {} s WHERE NOT EXISTS (SELECT 1 FROM candidates c WHERE c.id = s.candidate_id)"
        ).format(sql.Identifier(name))
    )
    if cur.rowcount:
        logger.info("dropped %d assignments of candidates deleted during training", cur.rowcount)
    return int(cur.rowcount or 0)


def attach(cur: Any, model_id: int, name: str, *, indexed: bool = False) -> dict[str, float]:
    """Build the partition's key and index (unless `indexed` at creation) and its foreign keys
    (checked on its rows), then attach it; the seconds of each step."""
    table = sql.Identifier(name)
    cur.execute(
        "SELECT pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)", (_INDEX_MEMORY,)
    )
    if cur.fetchone()[0]:
        # Also the memory of the foreign keys' check queries (RI_Initial_Check uses it as work_mem).
        cur.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(_INDEX_MEMORY)))
    steps = {} if indexed else dict(_index_statements(name))
    steps.update(_foreign_key_statements(cur, name))
    steps["attach"] = sql.SQL("ALTER TABLE candidate_segments ATTACH PARTITION {} FOR VALUES IN ({})").format(
        table, sql.Literal(int(model_id))
    )
    # Fresh statistics for the readers that follow (the list of a segment's candidates).
    steps["analyze"] = sql.SQL("ANALYZE {}").format(table)
    seconds: dict[str, float] = {}
    for step, statement in steps.items():
        started = time.perf_counter()
        if step in _MERGED_KEYS:
            _execute_merged(cur, statement)
        else:
            cur.execute(statement)
        seconds[step] = round(time.perf_counter() - started, 3)
    logger.info("attached %s (its foreign keys checked on its rows first): %s", name, seconds)
    return seconds


# The keys whose check reads a large parent: planned as a merge anti-join (see the docstring).
_MERGED_KEYS = frozenset({"key_candidate_id"})


def parent_foreign_keys(cur: Any) -> list[tuple[str, str, str]]:
    """candidate_segments' own foreign keys: (name, definition, column), by name."""
    cur.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid), a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.conrelid = 'candidate_segments'::regclass AND c.contype = 'f' ORDER BY c.conname"
    )
    return [(str(name), str(definition), str(column)) for name, definition, column in cur.fetchall()]


def _foreign_key_statements(cur: Any, name: str) -> dict[str, sql.Composed]:
    """`ALTER TABLE <name> ADD CONSTRAINT` for each of the parent's foreign keys, by column: the
    parent's own names and definitions, so that ATTACH adopts them."""
    return {
        f"key_{column}": sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(name), sql.Identifier(constraint)
        )
        + sql.SQL(definition)
        for constraint, definition, column in parent_foreign_keys(cur)
    }


def _execute_merged(cur: Any, statement: sql.Composed) -> None:
    """Run `statement` with hash and nested-loop joins off for its own queries, then as before.

    Transaction-local settings: if the statement fails, the rollback undoes them too."""
    cur.execute("SELECT current_setting('enable_hashjoin'), current_setting('enable_nestloop')")
    hashjoin, nestloop = cur.fetchone()
    joins = "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_nestloop', %s, true)"
    cur.execute(joins, ("off", "off"))
    cur.execute(statement)
    cur.execute(joins, (hashjoin, nestloop))


def drop_partition(cur: Any, model_id: int) -> int | None:
    """Drop the version's own partition: the rows it held (counted), or None when it has none or
    the role may not drop it (then the caller deletes its rows)."""
    name = partition_name(model_id)
    cur.execute(
        "SELECT c.oid FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid"
        " WHERE c.relname = %s AND i.inhparent = 'candidate_segments'::regclass",
        (name,),
    )
    if cur.fetchone() is None:
        return None
    cur.execute("SAVEPOINT adflux_drop_partition")
    try:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        rows = int(cur.fetchone()[0])
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        cur.execute("ROLLBACK TO SAVEPOINT adflux_drop_partition")
        return None
    cur.execute("RELEASE SAVEPOINT adflux_drop_partition")
    logger.info("dropped partition %s (%d assignments)", name, rows)
    return rows
