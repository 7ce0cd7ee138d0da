"""Celery entry point for the worker-crash tests: the AdFlux app plus one probe task.

Started by tests/security/test_faults.py as `celery -A fault_worker:celery_app worker ...` with this folder on
PYTHONPATH; the probe records each start and each completion in Redis, not in a database, so the
test needs nothing but the broker.
"""

from __future__ import annotations

import contextlib
import os
import time

import redis
from celery import shared_task

from adflux.app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

PROBE_TASK = "adflux.tests.fault_probe"


@shared_task(name=PROBE_TASK)
def fault_probe(key: str, seconds: float) -> None:
    """Record a start, work for `seconds`, record a completion."""
    store = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    store.rpush(f"{key}:starts", os.getpid())
    time.sleep(seconds)
    store.incr(f"{key}:done")


DB_PROBE_TASK = "adflux.tests.db_probe"


@shared_task(name=DB_PROBE_TASK, bind=True)
def db_probe(self, key: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    """Read, wait for the test's go, then create job opening `ref` once.

    The read leaves the session in a transaction on a pooled connection, so a PostgreSQL restart
    while the probe waits makes its write fail as a real task's would, mid-transaction.
    """
    from sqlalchemy import func, select

    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services import jobs
    from adflux.services.errors import DomainError
    from factories import job_data

    store = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    store.rpush(f"{key}:starts", self.request.retries)
    db.session.scalar(select(func.count()).select_from(JobOpening))
    deadline = time.monotonic() + 60
    while store.get(f"{key}:go") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(DomainError):  # an earlier attempt's commit went through: already there
        jobs.create_job(data=job_data(external_ref=ref))
    store.incr(f"{key}:done")
