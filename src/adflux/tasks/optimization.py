"""Rules and pacing after every metrics sync (queue: automation)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from adflux.constants import TASK_EVALUATE_OPTIMIZATION
from adflux.services.rules import evaluation


@shared_task(name=TASK_EVALUATE_OPTIMIZATION)
def evaluate_optimization() -> dict[str, Any]:
    """Pace every paced campaign and evaluate every enabled rule (idempotent: cooldowns hold)."""
    return evaluation.run_after_sync()
