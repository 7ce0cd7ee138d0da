"""Campaign change tasks (queue: publishing): a live platform campaign updated in place."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_APPLY_PLATFORM_CHANGE
from adflux.services.campaigns import change_apply

MAX_RETRIES = 4


@shared_task(bind=True, name=TASK_APPLY_PLATFORM_CHANGE, max_retries=MAX_RETRIES)
def apply_platform_change(
    self: Task, platform_campaign_id: int, revision: int | None = None
) -> dict[str, Any]:
    """Send a platform campaign's pending change (idempotent: safe to redeliver), retrying with backoff."""
    final = self.request.retries >= MAX_RETRIES
    outcome = change_apply.apply_platform_change(
        platform_campaign_id=platform_campaign_id, final_attempt=final
    )
    if outcome in ("retry", "busy"):
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries))
    return {"platform_campaign_id": platform_campaign_id, "revision": revision, "outcome": outcome}


@shared_task(name="adflux.tasks.campaign_changes.resend_stalled_updates")
def resend_stalled_updates() -> dict[str, Any]:
    """Resend in-place updates left pending (beat, every few minutes)."""
    return {"resent": change_apply.resend_stalled_updates()}
