"""Writing a model version's assignments into candidate_segments with one binary COPY (PostgreSQL).

Since migration 0033 the table is partitioned by version: the owner (below) COPYs into a table of
the version's own, builds its key and index and attaches it; the foreign keys are then checked on
that version's rows only (see `assignment_partitions`), where adding them back to the plain table
re-checked every kept version's rows (8-9 s instead of ~3 s at 1M with 12 versions kept). The
rest of this docstring is the plain table's path (a database not yet migrated), which stays.

A million rows each checked by candidate_segments' foreign-key triggers cost ~20 s of a ~23 s
write: every check looks up its candidate and KEY SHARE-locks it, which dirties the whole
candidates table. So a role that may alter the table (its owner: in production the role that ran
the migrations; or a superuser) drops the foreign keys for the COPY and adds them back in the
same transaction. Adding a foreign key checks every row with one anti-join (RI_Initial_Check),
no row locks; if any row had no parent the ADD fails and the whole training rolls back, so the
keys hold exactly as before. Candidates are locked in SHARE mode (no change until commit) and
those deleted since they were read are dropped first; candidate_segments is locked ACCESS
EXCLUSIVE until commit (readers of assignments wait the seconds the write and the rest of the
training take). Any other role gets a plain COPY with every row checked by its trigger (slow at a
million rows, correct).
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import numpy as np
from psycopg import sql

from adflux.services import assignment_partitions as partitions

logger = logging.getLogger(__name__)

# PostgreSQL binary COPY: signature, flags, header extension length; trailer: -1 as int16.
_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PGCOPY_TRAILER = struct.pack(">h", -1)
# One assignment row in binary COPY: 3 fields of (length, big-endian value).
_ASSIGNMENT_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("model_len", ">i4"),
        ("model_id", ">i4"),
        ("candidate_len", ">i4"),
        ("candidate_id", ">i8"),
        ("segment_len", ">i4"),
        ("segment_id", ">i4"),
    ]
)
_COPY_CHUNK_ROWS = 250_000
_COPY_IN = "COPY candidate_segments (model_id, candidate_id, segment_id) FROM STDIN (FORMAT BINARY)"


def copy_assignments(raw: Any, model_id: int, candidate_ids: np.ndarray, segment_ids: np.ndarray) -> None:
    """Binary COPY on the session's own psycopg connection (same transaction)."""
    rows = np.empty(len(candidate_ids), dtype=_ASSIGNMENT_ROW)
    rows["fields"], rows["model_len"], rows["candidate_len"], rows["segment_len"] = 3, 4, 8, 4
    rows["model_id"] = model_id
    rows["candidate_id"] = candidate_ids
    rows["segment_id"] = segment_ids
    with raw.cursor() as cur:
        mode = write_mode(cur)
        if mode == "owner" and partitions.can_attach(cur):
            cur.execute("LOCK TABLE candidates IN SHARE MODE")
            unchanged = _same_candidates(cur, candidate_ids)
            table = partitions.create_standalone(cur, model_id)
            _copy_rows(cur, partitions.copy_statement(table), rows)
            if not unchanged:
                partitions.drop_orphans(cur, table)
            partitions.attach(cur, model_id, table)
        elif mode == "owner":
            cur.execute("LOCK TABLE candidate_segments IN ACCESS EXCLUSIVE MODE")
            cur.execute("LOCK TABLE candidates IN SHARE MODE")
            unchanged = _same_candidates(cur, candidate_ids)
            keys = _drop_foreign_keys(cur)
            _copy_rows(cur, sql.SQL(_COPY_IN), rows)
            if not unchanged:
                _drop_orphans(cur, model_id)
            _add_foreign_keys(cur, keys)
        else:
            _copy_rows(cur, sql.SQL(_COPY_IN), rows)
    logger.info("wrote %d assignments of model %s (%s)", len(rows), model_id, mode)


def _copy_rows(cur: Any, statement: sql.Composable, rows: np.ndarray) -> None:
    with cur.copy(statement) as copy:
        copy.write(_PGCOPY_HEADER)
        for start in range(0, len(rows), _COPY_CHUNK_ROWS):
            copy.write(rows[start : start + _COPY_CHUNK_ROWS].tobytes())
        copy.write(_PGCOPY_TRAILER)


def write_mode(cur: Any) -> str:
    """Owner when the role may alter candidate_segments and reference its parents (a superuser
    may), else checked (row by row)."""
    cur.execute(
        "SELECT pg_has_role(current_user, c.relowner, 'USAGE')"
        " AND has_table_privilege('candidates', 'REFERENCES')"
        " AND has_table_privilege('segments', 'REFERENCES')"
        " AND has_table_privilege('segmentation_models', 'REFERENCES')"
        " FROM pg_class c WHERE c.oid = 'candidate_segments'::regclass"
    )
    return "owner" if cur.fetchone()[0] else "checked"


def _drop_foreign_keys(cur: Any) -> list[tuple[str, str]]:
    """Drop candidate_segments' foreign keys; their names and definitions, to add them back."""
    keys = [(name, definition) for name, definition, _column in partitions.parent_foreign_keys(cur)]
    if keys:
        drops = sql.SQL(", ").join(sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(n)) for n, _ in keys)
        cur.execute(sql.SQL("ALTER TABLE candidate_segments {}").format(drops))
    return keys


def _add_foreign_keys(cur: Any, keys: list[tuple[str, str]]) -> None:
    """Add the keys back in one ALTER: each is validated over the whole table by one query."""
    if not keys:
        return
    adds = sql.SQL(", ").join(
        sql.SQL("ADD CONSTRAINT {} ").format(sql.Identifier(name)) + sql.SQL(definition)
        for name, definition in keys
    )
    cur.execute(sql.SQL("ALTER TABLE candidate_segments {}").format(adds))


def _drop_orphans(cur: Any, model_id: int) -> None:
    # Both sides in id order: a merge anti-join (~0.4 s at 1M here); the planner, with no
    # statistics on rows this transaction wrote, would pick 1M index probes (~0.8 s).
    cur.execute("SET LOCAL enable_nestloop = off")
    cur.execute(
        "DELETE FROM candidate_segments s WHERE s.model_id = %s"
        " AND NOT EXISTS (SELECT 1 FROM candidates c WHERE c.id = s.candidate_id)",
        (model_id,),
    )
    cur.execute("RESET enable_nestloop")
    if cur.rowcount:
        logger.info("dropped %d assignments of candidates deleted during training", cur.rowcount)


def _same_candidates(cur: Any, candidate_ids: np.ndarray) -> bool:
    """Whether the candidates in the ids' range are still exactly those read (count and id sum).

    Cheap (~0.05 s at 1M) where matching every id costs ~0.4 s. A deletion changes the count or
    the sum unless a transaction still open during the read inserted candidates inside the range
    whose ids add up to exactly those deleted; the full check runs whenever either differs.
    """
    if len(candidate_ids) == 0:
        return True
    low, high = int(candidate_ids.min()), int(candidate_ids.max())
    cur.execute(
        "SELECT count(*), coalesce(sum(id), 0) FROM candidates WHERE id BETWEEN %s AND %s", (low, high)
    )
    count, total = cur.fetchone()
    return int(count) == len(candidate_ids) and int(total) == int(candidate_ids.sum())
