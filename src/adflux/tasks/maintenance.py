"""Maintenance tasks (queue: maintenance): alert evaluation, backups, clean-up."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.services import alerting, backups, maintenance
from adflux.tasks.base import run_tracked


@shared_task(name="adflux.tasks.maintenance.evaluate_alerts", ignore_result=True)
def evaluate_alerts() -> dict[str, Any]:
    """Check every alert rule, open/resolve alerts and notify (beat: every minute).

    Not recorded as a TaskRun: 1,440 rows a day would bury the work people care about; the
    alerts themselves are the record.
    """

    return alerting.evaluate().as_dict()


@shared_task(bind=True, name="adflux.tasks.maintenance.backup_database")
def backup_database(self: Task) -> Any:
    """Back up the database and apply retention (beat: daily, ADFLUX_BACKUP_CRON)."""

    def work(progress: Any) -> dict[str, Any]:
        progress("backup", 10)
        info = backups.create_backup(apply_retention_policy=False)
        progress("retention", 90)
        deleted = backups.apply_retention()
        return {"backup": info.name, "size_bytes": info.size_bytes, "deleted": [b.name for b in deleted]}

    return run_tracked(self, "maintenance.backup", work)


@shared_task(bind=True, name="adflux.tasks.maintenance.prune")
def prune(self: Task) -> Any:
    """Delete rows past retention (beat: daily, ADFLUX_PRUNE_CRON); simulated data is left alone."""

    def work(progress: Any) -> dict[str, Any]:
        return maintenance.prune(simulated=False).as_dict()

    return run_tracked(self, "maintenance.prune", work)
