"""Import tasks (queue: default): job and candidate files uploaded through the API."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_IMPORT_FILE
from adflux.services import import_uploads, task_runs
from adflux.tasks.base import run_tracked


@shared_task(bind=True, name=TASK_IMPORT_FILE)
def import_file(self: Task, run_id: str) -> Any:
    """Import the file stored for TaskRun `run_id`; its result is the per-row report."""
    kind = task_runs.get_task_run(task_id=run_id).kind
    return run_tracked(
        self, kind, lambda progress: import_uploads.run_import(run_id=run_id, progress=progress)
    )
