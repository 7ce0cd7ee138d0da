"""Helpers every task uses to record its run."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from adflux.services import task_runs
from adflux.services.errors import DomainError

logger = logging.getLogger(__name__)


def run_tracked(
    task: Task,
    kind: str,
    work: Callable[[Callable[[str, float], None]], dict[str, Any] | None],
    *,
    failure: Callable[[dict[str, Any]], str | None] | None = None,
) -> Any:
    """Run `work(progress)` recording start, progress, result or failure in the task's TaskRun.

    `failure(result)` says why a run that returned is nonetheless a failure (e.g. a sync that
    failed on one platform): the run is then recorded failed, with that reason and its result.
    """
    task_id = task.request.id or "eager"
    task_runs.start_task_run(task_id=task_id, kind=kind)

    def progress(stage: str, percent: float) -> None:
        task_runs.report_progress(task_id=task_id, stage=stage, percent=percent)

    try:
        result = work(progress)
    except DomainError as exc:
        # An expected failure (bad input, conflict): recorded for the user, not retried.
        task_runs.fail_task_run(task_id=task_id, error=exc.message)
        return {"error": exc.message}
    except DatabaseUnavailable as exc:
        # Retried by the task base (see adflux.tasks); the next attempt marks the run running
        # again. Recorded if the database answers at all, so a run whose retries run out says why.
        reason = str(exc.orig or exc).strip().splitlines()[0][:300]
        logger.warning("Task %s (%s): database unavailable (%s); it will be retried", task_id, kind, reason)
        with contextlib.suppress(DatabaseUnavailable):
            task_runs.fail_task_run(task_id=task_id, error=f"Database unavailable: {reason}")
        raise
    except Exception as exc:
        logger.exception("Task %s (%s) failed", task_id, kind)
        task_runs.fail_task_run(task_id=task_id, error=f"{type(exc).__name__}: {exc}")
        raise
    failed_because = failure(result) if failure is not None and result is not None else None
    if failed_because:
        task_runs.fail_task_run(task_id=task_id, error=failed_because, result=result)
    else:
        task_runs.finish_task_run(task_id=task_id, result=result)
    return result
