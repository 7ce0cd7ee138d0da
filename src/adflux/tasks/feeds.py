"""Job-feed tasks (queue: automation): read feeds on their schedule, follow the openings that moved."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_FOLLOW_JOB, TASK_RUN_FEED
from adflux.services import feed_campaigns
from adflux.services.errors import Conflict
from adflux.services.feeds import runs


@shared_task(name=TASK_RUN_FEED)
def run_feed(feed_id: int, trigger: str = "schedule", run_id: int | None = None) -> dict[str, Any]:
    """Read one feed and apply what changed (a run already in progress wins)."""
    try:
        run = runs.run_feed(feed_id=feed_id, trigger=trigger, run_id=run_id)
    except Conflict as exc:
        return {"feed_id": feed_id, "skipped": exc.message}
    return {"feed_id": feed_id, "run_id": run.id, "status": run.status}


@shared_task(name=TASK_FOLLOW_JOB, max_retries=5)
def follow_job(job_id: int, kind: str, run_id: int | None = None) -> dict[str, Any]:
    """Act on one opening's event (idempotent: safe to redeliver)."""
    return feed_campaigns.follow_job(job_id=job_id, kind=kind, run_id=run_id)


@shared_task(bind=True, name="adflux.tasks.feeds.run_due_feeds", ignore_result=True)
def run_due_feeds(self: Task) -> dict[str, Any]:
    """Every minute: queue the feeds whose interval has passed, and sweep what events missed."""
    return {"queued": runs.queue_due_feeds(), **feed_campaigns.sweep()}
