"""Publishing tasks (queue: publishing)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_PUBLISH_PLATFORM_CAMPAIGN
from adflux.services import campaigns as campaigns_service
from adflux.services import publishing

MAX_RETRIES = 4


@shared_task(bind=True, name=TASK_PUBLISH_PLATFORM_CAMPAIGN, max_retries=MAX_RETRIES)
def publish_platform_campaign(
    self: Task, platform_campaign_id: int, run_id: str | None = None
) -> dict[str, Any]:
    """Publish one platform campaign (idempotent: safe to redeliver), then settle its campaign."""
    final = self.request.retries >= MAX_RETRIES
    try:
        outcome = publishing.publish_platform_campaign(
            platform_campaign_id=platform_campaign_id, final_attempt=final
        )
    except publishing.RetryLater as later:
        # The platform said when: come back then (a scheduled retry), do not sleep in a worker.
        raise self.retry(countdown=later.seconds) from later
    if outcome == "retry":
        # Exponential backoff with a cap; the platform's own hints were honoured inside the transport.
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries))
    campaigns_service.settle_campaign_of(platform_campaign_id=platform_campaign_id, run_id=run_id)
    return {"platform_campaign_id": platform_campaign_id, "outcome": outcome}


@shared_task(name="adflux.tasks.publishing.resend_stalled_publishes")
def resend_stalled_publishes() -> dict[str, Any]:
    """Resend publish tasks that never reached a worker (beat, every few minutes)."""
    return {"resent": campaigns_service.resend_stalled_publishes()}
