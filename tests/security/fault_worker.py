"""Celery entry point for the worker-crash tests: the AdFlux app plus one probe task.

Started by tests/security/test_faults.py as `celery -A fault_worker:celery_app worker ...` with this folder on
PYTHONPATH; the probe records each start and each completion in Redis, not in a database, so the
test needs nothing but the broker.
"""

from __future__ import annotations

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
