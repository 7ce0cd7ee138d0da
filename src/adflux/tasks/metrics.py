"""Metrics sync tasks (queue: sync)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_SYNC_METRICS
from adflux.services import metrics_sync
from adflux.services.rules import evaluation
from adflux.tasks.base import run_tracked


@shared_task(bind=True, name=TASK_SYNC_METRICS, max_retries=3)
def sync_metrics(self: Task, platforms: list[str] | None = None) -> Any:
    """Pull daily insights (beat: hourly by default); retries only the platforms that failed."""

    def work(progress: Any) -> dict[str, Any]:
        return metrics_sync.sync_metrics(platforms=platforms, progress=progress).as_dict()

    result = run_tracked(self, "metrics.sync", work, failure=metrics_sync.failure_reason)
    # Rules and pacing act on the numbers just synced (their own task, on the automation queue).
    evaluation.queue_after_sync()
    failed = (result or {}).get("failed_platforms") or []
    if failed and self.request.retries < self.max_retries and not self.request.is_eager:
        # At the platforms' own Retry-After when they sent one longer than the usual backoff.
        countdown = metrics_sync.retry_delay(result or {}, default=60 * 2**self.request.retries)
        raise self.retry(kwargs={"platforms": failed}, countdown=countdown)
    return result
