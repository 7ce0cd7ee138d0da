"""First-hand measurement tasks (queue: maintenance): write buffered clicks, prune raw tracking data."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from adflux.services.tracking import clicks, conversions, privacy


@shared_task(name="adflux.tasks.tracking.flush_clicks")
def flush_clicks() -> dict[str, Any]:
    """Write the clicks buffered while the database was down (beat: every minute)."""
    return {"written": clicks.flush_buffered_clicks()}


@shared_task(name="adflux.tasks.tracking.prune_tracking")
def prune_tracking() -> dict[str, Any]:
    """Delete clicks and application events past ADFLUX_TRACKING_RETENTION_DAYS (beat: daily)."""
    return privacy.prune().__dict__


@shared_task(name="adflux.tasks.tracking.send_conversions")
def send_conversions() -> dict[str, Any]:
    """Send attributed applications of consenting candidates to the platforms (beat: every minute)."""
    return conversions.send_pending().__dict__
