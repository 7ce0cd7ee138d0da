"""Background work made visible: TaskRun rows, and starting a run's task through the task queue."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import TaskRun
from adflux.models.base import utcnow
from adflux.services import task_queue
from adflux.services.errors import NotFound, ServiceUnavailable
from adflux.services.pagination import Keyset, Page, paginate

logger = logging.getLogger(__name__)


def create_task_run(
    *, kind: str, params: dict[str, Any] | None = None, subject: tuple[str, Any] | None = None
) -> TaskRun:
    """Record a pending task run and commit it, so it is visible before the work starts."""
    user = g.get("current_user") if has_request_context() else None
    run = TaskRun(
        id=str(uuid.uuid4()),
        kind=kind,
        status="pending",
        params=params or {},
        subject_type=subject[0] if subject else None,
        subject_id=str(subject[1]) if subject else None,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(run)
    db.session.commit()
    return run


def enqueue(task_name: str, run: TaskRun, *args: Any, queue: str | None = None) -> TaskRun:
    """Send task `task_name` with `run.id` as its Celery id; a broker outage is a 503, never a drop."""
    run_id = run.id
    try:
        task_queue.send(task_name, *args, task_id=run_id, queue=queue)
    except task_queue.QueueUnavailable as exc:
        logger.error("Broker unavailable, task %s (%s) not sent: %s", run_id, run.kind, exc)
        db.session.rollback()
        fail_task_run(task_id=run_id, error="The task queue is unavailable; nothing was started.")
        raise ServiceUnavailable(_("The task queue is unavailable; try again shortly")) from exc
    db.session.expire_all()
    return get_task_run(task_id=run_id)


def start_task_run(*, task_id: str, kind: str, params: dict[str, Any] | None = None) -> TaskRun:
    """Mark a run as running (creating it if the task was sent without one)."""
    run = db.session.get(TaskRun, task_id)
    if run is None:
        run = TaskRun(id=task_id, kind=kind, params=params or {})
        db.session.add(run)
    run.status = "running"
    run.started_at = run.started_at or utcnow()
    run.error = None
    db.session.commit()
    return run


def report_progress(*, task_id: str, stage: str, percent: float) -> None:
    """Record how far a running task is."""
    run = db.session.get(TaskRun, task_id)
    if run is None:
        return
    run.stage = stage[:100]
    run.progress = max(0.0, min(100.0, float(percent)))
    db.session.commit()


def finish_task_run(*, task_id: str, result: dict[str, Any] | None = None) -> None:
    """Mark a run as succeeded with its result."""
    run = db.session.get(TaskRun, task_id)
    if run is None:
        return
    run.status, run.progress, run.result, run.finished_at = "succeeded", 100.0, result, utcnow()
    run.stage = "done"
    db.session.commit()


def fail_task_run(*, task_id: str, error: str, result: dict[str, Any] | None = None) -> None:
    """Mark a run as failed with a message a person can read (and what it did achieve, if any)."""
    db.session.rollback()
    run = db.session.get(TaskRun, task_id)
    if run is None:
        return
    run.status, run.error, run.finished_at = "failed", error[:2000], utcnow()
    if result is not None:
        run.result, run.progress, run.stage = result, 100.0, "done"
    db.session.commit()


def get_task_run(*, task_id: str) -> TaskRun:
    """One task run, or NotFound."""
    run = db.session.get(TaskRun, task_id)
    if run is None:
        raise NotFound(_("Task %(task_id)s does not exist", task_id=task_id))
    return run


def list_task_runs(
    *,
    page: int = 1,
    page_size: int = 20,
    kind: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
) -> Page[TaskRun]:
    """Task runs, newest first."""
    stmt = select(TaskRun)
    if kind:
        stmt = stmt.where(TaskRun.kind == kind)
    if status:
        stmt = stmt.where(TaskRun.status == status)
    newest_first = Keyset((TaskRun.created_at, TaskRun.id), descending=True)
    return paginate(stmt, page=page, page_size=page_size, keyset=newest_first, cursor=cursor)
