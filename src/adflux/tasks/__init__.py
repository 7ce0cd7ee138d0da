"""Celery, wired the way Flask's own Celery example does it.

Without a broker (the embedded default) tasks run inline (`task_always_eager`), so the demo and
tests need no services; with `CELERY_BROKER_URL` they go to workers on Redis.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from adflux.settings import Settings, current_settings
from adflux.tasks import all_tasks  # noqa: F401  (registers every task with Celery)
from adflux.tasks.schedule import beat_schedule


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings derived from AdFlux settings."""
    eager = not settings.celery_broker_url
    return {
        "broker_url": settings.celery_broker_url or "memory://localhost/",
        "result_backend": settings.celery_result_backend,
        "task_ignore_result": True,
        "task_always_eager": eager,
        "task_eager_propagates": False,
        "task_default_queue": "default",
        "task_routes": {
            "adflux.tasks.publishing.*": {"queue": "publishing"},
            "adflux.tasks.metrics.*": {"queue": "sync"},
            "adflux.tasks.segmentation.*": {"queue": "training"},
            "adflux.tasks.maintenance.*": {"queue": "maintenance"},
            "adflux.tasks.feeds.*": {"queue": "automation"},
        },
        # A task is acknowledged only after it finished, and redelivered if its worker dies:
        # every task is idempotent, so running twice is safe, losing one is not.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Unacknowledged tasks of a dead worker come back after the visibility timeout; scan for
        # them every few seconds (kombu's default scans only every ~100 s).
        "broker_transport_options": {
            "visibility_timeout": settings.celery_visibility_timeout,
            "unacked_restore_interval": max(1, min(10, settings.celery_visibility_timeout // 2)),
            "unacked_restore_throttle": 1,
            # A request that enqueues must answer 503 quickly when Redis is down or hung, not wait
            # forever on a dead connection (kombu's default); BRPOP (1 s) stays below it.
            "socket_connect_timeout": 2,
            "socket_timeout": 3,
        },
        "broker_connection_timeout": 2,
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        "timezone": "UTC",
        "beat_schedule": beat_schedule(settings),
        "worker_hijack_root_logger": False,
    }


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to `app` (tasks run inside its app context)."""

    class FlaskTask(Task):
        # A database that restarts or is briefly unreachable fails the task's statements with
        # OperationalError; every task is idempotent, so it is retried after 2, 4, 8 s (the pool
        # replaces the dead connections) instead of being lost. No jitter: Celery's is "full"
        # (anywhere from 0 s), which could spend every retry inside a restart of a few seconds.
        autoretry_for = (DatabaseUnavailable,)
        retry_backoff = 2
        retry_backoff_max = 60
        retry_jitter = False

        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def init_app(app: Flask) -> None:
    """Configure Celery from the app's settings and register every task module."""
    settings = current_settings(app)
    app.config["CELERY"] = celery_config(settings)
    celery_init_app(app)
