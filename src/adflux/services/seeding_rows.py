"""The rows a seeding run inserts: the run's counts and progress, and the simulated candidates and job
openings generated chunk by chunk, without those whose reference is already in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from adflux.simulation import CandidateBatch, PersonaMix, generate_candidates, generate_jobs

Progress = Callable[[int, int], None]
CANDIDATE_CHUNK = 100_000
JOB_CHUNK = 10_000


@dataclass
class SeedRun:
    candidates: int
    jobs: int
    seed: int
    as_of: datetime
    progress: Progress | None
    mix: PersonaMix | None = None
    done: int = 0

    @property
    def total(self) -> int:
        return self.candidates + self.jobs

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(self.done, self.total)


def candidate_chunks(
    run: SeedRun, existing_numbers: np.ndarray, chunk: int
) -> Iterator[tuple[CandidateBatch, int]]:
    """Generated candidates chunk by chunk, without the ones whose reference already exists."""
    present = np.zeros(run.candidates, dtype=bool)
    numbers = existing_numbers[(existing_numbers >= 1) & (existing_numbers <= run.candidates)]
    present[numbers - 1] = True
    for start in range(0, run.candidates, chunk):
        size = min(chunk, run.candidates - start)
        batch = generate_candidates(size, seed=run.seed, start=start, as_of=run.as_of, mix=run.mix)
        skip = present[start : start + size]
        if skip.any():
            batch = batch.take(~skip)
        yield batch, int(skip.sum())


def job_chunks(run: SeedRun, existing_numbers: np.ndarray) -> Iterator[list[dict[str, Any]]]:
    present = set(existing_numbers.tolist())
    for start in range(0, run.jobs, JOB_CHUNK):
        size = min(JOB_CHUNK, run.jobs - start)
        jobs = generate_jobs(size, seed=run.seed, start=start)
        fresh = [job for i, job in enumerate(jobs, start=start + 1) if i not in present]
        if fresh:
            yield fresh
        run.advance(size)
