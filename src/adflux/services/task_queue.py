"""The one port through which services start background work: Celery tasks by name.

Services never import `adflux.tasks` (a face): they name the task (`constants.TASK_*`) and this
port finds it in the Celery app that `create_app` wired in, so an inline (eager) app runs it
here and a broker-backed one sends it to a worker.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from flask import current_app
from kombu.exceptions import OperationalError

# The broker could not take the message (Redis down or hung): nothing was sent.
QueueUnavailable = OperationalError


def _celery() -> Celery:
    celery: Celery = current_app.extensions["celery"]
    return celery


def send(task_name: str, *args: Any, task_id: str | None = None, queue: str | None = None) -> None:
    """Enqueue the registered task `task_name` with positional `args`; raises QueueUnavailable."""
    task = _celery().tasks[task_name]
    task.apply_async(args=args, task_id=task_id, queue=queue)
