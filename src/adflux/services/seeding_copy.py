"""Seeding on PostgreSQL: candidates generated column-wise in chunks (numpy), rendered to COPY text by
Arrow (no per-row Python) and streamed with psycopg 3 `COPY ... FROM STDIN`, their personas and the
job openings likewise, in one transaction with the tables locked against concurrent writers.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.extensions import db
from adflux.models.skills_text import SEPARATOR as SKILLS_SEPARATOR
from adflux.services import bulk_foreign_keys
from adflux.services.seeding_rows import CANDIDATE_CHUNK, SeedRun, candidate_chunks, job_chunks
from adflux.simulation import PERSONA_NAMES, CandidateBatch
from adflux.simulation.candidates import CANDIDATE_COLUMNS, CANDIDATE_REF_PREFIX
from adflux.simulation.geography import CITY_DEPARTMENTS, CITY_NAMES
from adflux.simulation.jobs import JOB_COLUMNS, JOB_REF_PREFIX

# The debug timings stay under the seeding service's logger.
logger = logging.getLogger("adflux.services.seeding")

# Loads at least this big (and at least as big as the table) rebuild secondary indexes after.
BULK_INDEX_REBUILD_MIN_ROWS = 100_000
_PERSONA_NAMES = pa.array(PERSONA_NAMES, pa.string())
# COPY text format takes values verbatim except for these; the vocabularies never contain them.
_VOCABULARIES = (CITY_NAMES, CITY_DEPARTMENTS, EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES, PERSONA_NAMES)
assert not any(set(value) & set("\\\t\n\r") for vocabulary in _VOCABULARIES for value in vocabulary)
_COPY_CANDIDATE_COLUMNS = ("id", *CANDIDATE_COLUMNS, "skills_text", "created_at", "updated_at")


def seed_postgresql(run: SeedRun, *, replace: bool) -> dict[str, int]:
    raw = db.engine.raw_connection()
    conn = raw.driver_connection  # the psycopg 3 connection, outside SQLAlchemy's bookkeeping
    if conn is None:  # never for a connection just checked out; None once one is invalidated
        raw.close()
        raise RuntimeError("the pooled database connection has no driver connection")
    try:
        with conn.cursor() as cur:
            # Concurrent readers are fine; concurrent writers would race us for ids and refs.
            cur.execute("LOCK TABLE candidates, candidate_personas, job_openings IN SHARE ROW EXCLUSIVE MODE")
            deleted = _delete_simulated_pg(cur) if replace else (0, 0)
            run.advance(0)
            inserted = _copy_candidates_pg(cur, run)
            jobs_inserted = _copy_jobs_pg(cur, run)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        raw.close()
    return {
        "candidates_inserted": inserted,
        "candidates_skipped": run.candidates - inserted,
        "jobs_inserted": jobs_inserted,
        "jobs_skipped": run.jobs - jobs_inserted,
        "candidates_deleted": deleted[0],
        "jobs_deleted": deleted[1],
    }


def _copy_candidates_pg(cur: Any, run: SeedRun) -> int:
    existing = _existing_numbers_pg(cur, "candidates", CANDIDATE_REF_PREFIX)
    expected = run.candidates - int(np.count_nonzero((existing >= 1) & (existing <= run.candidates)))
    if expected == 0:
        run.advance(run.candidates)
        return 0
    sequence, next_id = _next_candidate_id(cur)
    rebuilt = _drop_secondary_indexes_for_bulk_load(cur, "candidates", expected)
    inserted, personas = _copy_candidate_rows(cur, run, existing, next_id)
    if rebuilt:
        started = time.perf_counter()
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in rebuilt:
            cur.execute(definition)
        logger.debug("rebuilt %d candidate indexes in %.2f s", len(rebuilt), time.perf_counter() - started)
    # The personas reference their candidates, so they follow the candidates' COPY.
    _copy_personas_pg(cur, personas, inserted, bulk=bool(rebuilt))
    if sequence:
        # Later ORM/API inserts must not collide with the ids chosen here.
        cur.execute("SELECT setval(%s::regclass, %s)", (sequence, next_id + inserted - 1))
    return inserted


def _next_candidate_id(cur: Any) -> tuple[str | None, int]:
    """The candidates' id sequence and the first id free in both the table and the sequence."""
    cur.execute("SELECT pg_get_serial_sequence('candidates', 'id')")
    sequence = cur.fetchone()[0]
    cur.execute(
        "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM candidates),"
        " COALESCE(pg_sequence_last_value(%s::regclass), 0))",
        (sequence,),
    )
    return sequence, int(cur.fetchone()[0]) + 1


def _copy_candidate_rows(
    cur: Any, run: SeedRun, existing: np.ndarray, next_id: int
) -> tuple[int, list[pa.Buffer]]:
    """COPY the new candidates with ids from `next_id`; how many, and their personas' COPY text."""
    from psycopg.copy import QueuedLibpqWriter

    started = time.perf_counter()
    inserted = 0
    now_text = _timestamp_text(datetime.now(UTC))
    personas: list[pa.Buffer] = []
    # One COPY for all candidates, fed through a writer thread: the server parses and stores
    # chunk i while this thread generates chunk i + 1.
    with cur.copy(
        f"COPY candidates ({', '.join(_COPY_CANDIDATE_COLUMNS)}) FROM STDIN", writer=QueuedLibpqWriter(cur)
    ) as copy:
        for batch, skipped_in_chunk in candidate_chunks(run, existing, CANDIDATE_CHUNK):
            ids = np.arange(next_id + inserted, next_id + inserted + len(batch), dtype=np.int64)
            candidates_text, personas_text = _candidate_copy_text(batch, ids, now_text)
            copy.write(candidates_text)
            personas.append(personas_text)
            inserted += len(batch)
            run.advance(len(batch) + skipped_in_chunk)
    logger.debug("COPY of %d candidates took %.2f s", inserted, time.perf_counter() - started)
    return inserted, personas


def _copy_personas_pg(cur: Any, personas: list[pa.Buffer], inserted: int, *, bulk: bool) -> None:
    """COPY the candidates' personas (`inserted` rows of COPY text), after their candidates."""
    from psycopg.copy import QueuedLibpqWriter

    started = time.perf_counter()
    skip_fk_checks = _is_superuser(cur)
    if skip_fk_checks:
        # The key's trigger would look up (and share-lock) each candidate written a moment ago in
        # this transaction: it cannot fail (pg_restore --disable-triggers does the same). Other
        # roles: for a bulk load the tables' owner checks the key once, after the COPY.
        cur.execute("SET LOCAL session_replication_role = replica")
    keys = bulk_foreign_keys.set_aside(cur, "candidate_personas") if bulk and not skip_fk_checks else []
    with cur.copy(
        "COPY candidate_personas (candidate_id, persona, persona_index) FROM STDIN",
        writer=QueuedLibpqWriter(cur),
    ) as copy:
        for buffer in personas:
            copy.write(buffer)
    if skip_fk_checks:
        cur.execute("SET LOCAL session_replication_role = origin")
    logger.debug("COPY of %d personas took %.2f s", inserted, time.perf_counter() - started)
    bulk_foreign_keys.put_back(cur, "candidate_personas", keys)


def _drop_secondary_indexes_for_bulk_load(cur: Any, table: str, rows: int) -> list[str]:
    """Drop `table`'s plain secondary indexes when a load is big; returns their definitions.

    PostgreSQL's own advice for populating a database: building an index once over the loaded
    rows is far cheaper than updating it row by row (here ~40 % of the COPY time). Only worth it
    when the load is large and at least as big as what the table already holds. Unique and
    primary-key indexes stay (they back constraints). The cost: DROP INDEX locks the table
    against readers until the seed commits, which is fine for a bulk seed.
    """
    if rows < BULK_INDEX_REBUILD_MIN_ROWS:
        return []
    cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,))
    estimate = float(cur.fetchone()[0])
    if estimate < 0:  # never analysed: count for real
        cur.execute(f"SELECT count(*) FROM {table}")
        estimate = float(cur.fetchone()[0])
    if rows < estimate:
        return []
    cur.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = %s::regclass AND NOT indisunique AND NOT indisprimary AND NOT indisexclusion",
        (table,),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")  # regclass text: already a quoted, qualified name
    return [definition for _, definition in indexes]


def _copy_jobs_pg(cur: Any, run: SeedRun) -> int:
    existing = _existing_numbers_pg(cur, "job_openings", JOB_REF_PREFIX)
    inserted = 0
    now = datetime.now(UTC)
    for chunk in job_chunks(run, existing):
        with cur.copy(
            f"COPY job_openings ({', '.join(JOB_COLUMNS)}, created_at, updated_at) FROM STDIN"
        ) as copy:
            for job in chunk:
                copy.write_row([*(job[c] for c in JOB_COLUMNS), now, now])
        inserted += len(chunk)
    return inserted


def _delete_simulated_pg(cur: Any) -> tuple[int, int]:
    # Personas and segment assignments go with their candidates (ON DELETE CASCADE).
    cur.execute("DELETE FROM candidates WHERE external_ref LIKE %s", (f"{CANDIDATE_REF_PREFIX}%",))
    candidates = cur.rowcount
    # Campaigns may point at simulated openings; those openings are kept (deleting would lose
    # campaign history) and simply not re-inserted.
    cur.execute(
        "DELETE FROM job_openings j WHERE j.external_ref LIKE %s"
        " AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.job_id = j.id)",
        (f"{JOB_REF_PREFIX}%",),
    )
    return candidates, cur.rowcount


def _is_superuser(cur: Any) -> bool:
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    return bool(row and row[0])


def _existing_numbers_pg(cur: Any, table: str, prefix: str) -> np.ndarray:
    """Row numbers (1-based) of simulated references already in `table`."""
    pattern = f"^{prefix}[0-9]{{1,18}}$"
    cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE external_ref ~ %s)", (pattern,))
    if not cur.fetchone()[0]:
        return np.empty(0, dtype=np.int64)
    # Possibly millions: stream them as text and parse in numpy rather than row by row.
    chunks: list[bytes] = []
    query = (
        f"COPY (SELECT substr(external_ref, {len(prefix) + 1}) FROM {table}"
        f" WHERE external_ref ~ '{pattern}') TO STDOUT"
    )
    with cur.copy(query) as copy:
        chunks.extend(bytes(data) for data in copy)
    return np.array(b"".join(chunks).split(), dtype=np.int64)


def _candidate_copy_text(
    batch: CandidateBatch, ids: np.ndarray, now_text: str
) -> tuple[pa.Buffer, pa.Buffer]:
    """COPY text-format bodies for candidates and candidate_personas, rendered by Arrow.

    Every value is cast to text and the columns joined with tabs in Arrow (C++): the joined
    strings' data buffer is the COPY payload, with no per-row Python and no CSV quoting for the
    server to undo. Safe because no generated value contains a tab, newline or backslash.
    """
    table = batch.to_arrow(include_persona=False, json_lists=True)
    n = len(batch)
    # Naive UTC rendered by Arrow plus an explicit +00: independent of the session TimeZone.
    last_active = pc.binary_join_element_wise(
        pc.cast(pa.array(batch.last_active_at.astype("datetime64[s]"), pa.timestamp("s")), pa.string()),
        "+00",
        "",
    )
    stamp = pc.take(pa.array([now_text]), pa.array(np.zeros(n, dtype=np.int32)))
    id_column = pa.array(ids)
    columns = [
        last_active if name == "last_active_at" else table.column(name).combine_chunks()
        for name in CANDIDATE_COLUMNS
    ]
    skills_text = batch.joined_skills(SKILLS_SEPARATOR)  # the trigger would cost ~25 µs a row
    candidates = _copy_text([id_column, *columns, skills_text, stamp, stamp])
    persona = pc.take(_PERSONA_NAMES, pa.array(batch.persona_index.astype(np.int32)))
    personas = _copy_text([id_column, persona, pa.array(batch.persona_index.astype(np.int32))])
    return candidates, personas


def _copy_text(columns: list[pa.Array]) -> pa.Buffer:
    texts = [c if pa.types.is_string(c.type) else pc.cast(c, pa.string()) for c in columns]
    texts[-1] = pc.binary_join_element_wise(texts[-1], "\n", "")
    rows = pc.binary_join_element_wise(*texts, "\t")
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + len(rows) + 1]
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])]


def _timestamp_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
