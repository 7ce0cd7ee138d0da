"""Fill the database with simulated candidates (and their hidden personas) and job openings.

Fast path on PostgreSQL: candidates are generated column-wise in chunks (numpy), rendered to CSV
by Arrow (C++, no per-row Python) and streamed with psycopg 3 `COPY ... FROM STDIN`; a writer
thread sends one chunk while the next is being generated. On SQLite (the embedded default)
rows go in with `executemany`.

Guarantees:

* One transaction per run: a failure (or Ctrl-C) leaves the database as it was.
* Idempotent: simulated rows have deterministic external references (`SIM-C-0000001`, ...,
  `SIM-J-...`); a reference already present is left alone and not inserted again, so running the
  same seed twice adds nothing. `replace=True` first deletes every simulated row
  (external_ref starting with `SIM-C-` / `SIM-J-`, with their personas and segment assignments).
* Candidate ids are assigned here (the personas table needs them without a round trip): the
  tables are locked against concurrent writers for the run, ids continue after
  max(max(id), sequence), and the PostgreSQL sequence is moved past the last id.

The paths: `seeding_copy` (PostgreSQL), `seeding_sqlite` (SQLite), and `seeding_rows` (the rows
both insert, generated chunk by chunk).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from adflux.extensions import db
from adflux.services.seeding_copy import seed_postgresql
from adflux.services.seeding_rows import Progress, SeedRun
from adflux.services.seeding_sqlite import seed_sqlite
from adflux.simulation import PersonaMix
from adflux.simulation import parse_mix as parse_persona_mix  # noqa: F401 - for the CLI

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeedResult:
    """What one seeding run did."""

    seed: int
    backend: str
    candidates_inserted: int
    candidates_skipped: int
    jobs_inserted: int
    jobs_skipped: int
    candidates_deleted: int
    jobs_deleted: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_database(
    *,
    candidates: int,
    jobs: int,
    seed: int,
    progress: Progress | None = None,
    replace: bool = False,
    as_of: datetime | None = None,
    mix: PersonaMix | None = None,
) -> SeedResult:
    """Insert simulated candidates (with personas) and job openings in one transaction.

    Must run inside a Flask app context. `as_of` is the simulation's "today" (default: the
    start of the current UTC day), so last activity looks recent in a live database. `mix` sets
    the persona shares, overlap and noise (`simulation.mixes`; default: the even mix).
    """
    if candidates < 0 or jobs < 0:
        raise ValueError("candidates and jobs must be >= 0")
    as_of = as_of or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    run = SeedRun(candidates=candidates, jobs=jobs, seed=seed, as_of=as_of, progress=progress, mix=mix)
    started = time.perf_counter()
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        counts = seed_postgresql(run, replace=replace)
        backend = "postgresql-copy"
    elif dialect == "sqlite":
        counts = seed_sqlite(run, replace=replace)
        backend = "sqlite-executemany"
    else:
        raise NotImplementedError(f"seeding supports PostgreSQL and SQLite, not {dialect}")
    seconds = time.perf_counter() - started
    result = SeedResult(seed=seed, backend=backend, seconds=round(seconds, 3), **counts)
    logger.info(
        "seeded %d candidates and %d job openings (seed %d, %s) in %.1f s (%.0f candidates/s)",
        result.candidates_inserted,
        result.jobs_inserted,
        seed,
        backend,
        seconds,
        result.candidates_inserted / seconds if seconds else 0.0,
    )
    return result
