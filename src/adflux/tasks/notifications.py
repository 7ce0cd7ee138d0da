"""Notification tasks (queue: maintenance): owners' notifications and the weekly report e-mail."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.services import owner_notifications, weekly_report_mail
from adflux.settings import current_settings
from adflux.tasks.base import run_tracked


@shared_task(name="adflux.tasks.notifications.notify_owners", ignore_result=True)
def notify_owners() -> dict[str, int]:
    """Tell campaign owners what needs them (beat: every minute); each event is told once."""
    settings = current_settings()
    if not settings.owner_notifications:
        return {"found": 0, "sent": 0, "failed": 0}
    return owner_notifications.notify_owners(settings).as_dict()


@shared_task(bind=True, name="adflux.tasks.notifications.email_weekly_report")
def email_weekly_report(self: Task) -> Any:
    """E-mail last week's report to the managers (beat: ADFLUX_WEEKLY_REPORT_CRON)."""

    def work(progress: Any) -> dict[str, Any]:
        return weekly_report_mail.send_weekly_report(current_settings())

    return run_tracked(self, "reports.weekly_email", work)
