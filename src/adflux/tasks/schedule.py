"""The beat schedule, as data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from adflux.settings import Settings


def _cron(expr: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expr.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Periodic work: entries are added here as capabilities land."""
    schedule: dict[str, dict[str, Any]] = {
        "sync-metrics": {
            "task": "adflux.tasks.metrics.sync_metrics",
            "schedule": timedelta(minutes=settings.metrics_sync_interval_minutes),
        },
        # Cheap and safe to run often; on the maintenance queue so a publishing backlog never
        # delays it, and expiring before the next run.
        "resend-stalled-updates": {
            "task": "adflux.tasks.campaign_changes.resend_stalled_updates",
            "schedule": timedelta(minutes=5),
            "options": {"queue": "maintenance", "expires": 240},
        },
        "resend-stalled-publishes": {
            "task": "adflux.tasks.publishing.resend_stalled_publishes",
            "schedule": timedelta(seconds=settings.publish_sweep_interval_seconds),
            "options": {
                "queue": "maintenance",
                "expires": max(1, settings.publish_sweep_interval_seconds - 5),
            },
        },
        # Expires before the next run: a backlog of stale evaluations is never worth running.
        "evaluate-alerts": {
            "task": "adflux.tasks.maintenance.evaluate_alerts",
            "schedule": timedelta(minutes=1),
            "options": {"queue": "maintenance", "expires": 55},
        },
        # Feeds say how often they are read; this only looks for the ones that are due.
        "run-due-feeds": {
            "task": "adflux.tasks.feeds.run_due_feeds",
            "schedule": timedelta(minutes=1),
            "options": {"queue": "automation", "expires": 55},
        },
        "notify-campaign-owners": {
            "task": "adflux.tasks.notifications.notify_owners",
            "schedule": timedelta(minutes=1),
            "options": {"queue": "maintenance", "expires": 55},
        },
        "email-weekly-report": {
            "task": "adflux.tasks.notifications.email_weekly_report",
            "schedule": _cron(settings.weekly_report_cron),
            "options": {"queue": "maintenance"},
        },
        "backup-database": {
            "task": "adflux.tasks.maintenance.backup_database",
            "schedule": _cron(settings.backup_cron),
            "options": {"queue": "maintenance"},
        },
        "prune-old-rows": {
            "task": "adflux.tasks.maintenance.prune",
            "schedule": _cron(settings.prune_cron),
            "options": {"queue": "maintenance"},
        },
        "flush-buffered-clicks": {
            "task": "adflux.tasks.tracking.flush_clicks",
            "schedule": timedelta(minutes=1),
            "options": {"queue": "maintenance", "expires": 55},
        },
        "send-conversions": {
            "task": "adflux.tasks.tracking.send_conversions",
            "schedule": timedelta(minutes=1),
            "options": {"queue": "maintenance", "expires": 55},
        },
        "prune-tracking-data": {
            "task": "adflux.tasks.tracking.prune_tracking",
            "schedule": _cron(settings.prune_cron),
            "options": {"queue": "maintenance"},
        },
        "retrain-segmentation": {
            "task": "adflux.tasks.segmentation.retrain_segmentation",
            "schedule": _cron(settings.retrain_cron),
        },
        "allocate-budgets": {
            "task": "adflux.tasks.optimization.allocate_budgets",
            "schedule": _cron(settings.allocation_cron),
            "options": {"queue": "automation"},
        },
        "retrain-forecasts": {
            "task": "adflux.tasks.optimization.retrain_forecasts",
            "schedule": _cron(settings.forecast_retrain_cron),
        },
        "check-segmentation-drift": {
            "task": "adflux.tasks.segmentation.check_drift",
            "schedule": timedelta(days=1),
        },
    }
    return schedule
