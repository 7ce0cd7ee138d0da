"""Seeding on SQLite (the embedded default): the same rows with `executemany`, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, insert, text

from adflux.extensions import db
from adflux.models import Candidate, CandidatePersona, JobOpening
from adflux.models.skills_text import skills_text
from adflux.services.seeding_rows import SeedRun, candidate_chunks, job_chunks
from adflux.simulation.candidates import CANDIDATE_REF_PREFIX
from adflux.simulation.jobs import JOB_REF_PREFIX

_SQLITE_CHUNK = 20_000


def seed_sqlite(run: SeedRun, *, replace: bool) -> dict[str, int]:
    candidates_table = Candidate.__table__
    personas_table = CandidatePersona.__table__
    with db.engine.begin() as conn:
        deleted = _delete_simulated_sqlite(conn) if replace else (0, 0)
        run.advance(0)
        existing = _existing_numbers_sqlite(conn, "candidates", CANDIDATE_REF_PREFIX)
        next_id = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM candidates")).scalar_one() or 0) + 1
        inserted = 0
        now = datetime.now(UTC)
        for batch, skipped_in_chunk in candidate_chunks(run, existing, _SQLITE_CHUNK):
            records = batch.to_records()
            ids = range(next_id + inserted, next_id + inserted + len(records))
            for record, candidate_id in zip(records, ids, strict=True):
                record["id"] = candidate_id
                record["created_at"] = record["updated_at"] = now
                record["skills_text"] = skills_text(record["skills"])
            if records:
                conn.execute(insert(candidates_table), records)
                personas = [
                    {"candidate_id": cid, "persona": name, "persona_index": int(index)}
                    for cid, name, index in zip(ids, batch.persona, batch.persona_index, strict=True)
                ]
                conn.execute(insert(personas_table), personas)
            inserted += len(records)
            run.advance(len(records) + skipped_in_chunk)

        existing_jobs = _existing_numbers_sqlite(conn, "job_openings", JOB_REF_PREFIX)
        jobs_inserted = 0
        for chunk in job_chunks(run, existing_jobs):
            conn.execute(
                insert(JobOpening.__table__), [{**job, "created_at": now, "updated_at": now} for job in chunk]
            )
            jobs_inserted += len(chunk)
    return {
        "candidates_inserted": inserted,
        "candidates_skipped": run.candidates - inserted,
        "jobs_inserted": jobs_inserted,
        "jobs_skipped": run.jobs - jobs_inserted,
        "candidates_deleted": deleted[0],
        "jobs_deleted": deleted[1],
    }


def _delete_simulated_sqlite(conn: Connection) -> tuple[int, int]:
    # SQLite enforces ON DELETE CASCADE only with PRAGMA foreign_keys=ON: delete children first.
    simulated = "SELECT id FROM candidates WHERE external_ref GLOB :pattern"
    pattern = {"pattern": f"{CANDIDATE_REF_PREFIX}*"}
    conn.execute(text(f"DELETE FROM candidate_personas WHERE candidate_id IN ({simulated})"), pattern)
    conn.execute(text(f"DELETE FROM candidate_segments WHERE candidate_id IN ({simulated})"), pattern)
    candidates = conn.execute(
        text("DELETE FROM candidates WHERE external_ref GLOB :pattern"), pattern
    ).rowcount
    jobs = conn.execute(
        text(
            "DELETE FROM job_openings WHERE external_ref GLOB :pattern"
            " AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.job_id = job_openings.id)"
        ),
        {"pattern": f"{JOB_REF_PREFIX}*"},
    ).rowcount
    return candidates, jobs


def _existing_numbers_sqlite(conn: Connection, table: str, prefix: str) -> np.ndarray:
    refs = conn.execute(
        text(f"SELECT external_ref FROM {table} WHERE external_ref GLOB :pattern"),
        {"pattern": f"{prefix}[0-9]*"},
    ).scalars()
    numbers = [ref[len(prefix) :] for ref in refs]
    return np.array([int(n) for n in numbers if n.isdigit() and len(n) <= 18], dtype=np.int64)
