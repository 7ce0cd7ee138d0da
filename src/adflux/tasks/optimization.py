"""Rules and pacing after every metrics sync, the daily budget allocation, forecast retraining."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from adflux.constants import TASK_EVALUATE_OPTIMIZATION
from adflux.services.allocation import daily
from adflux.services.rules import evaluation


@shared_task(name=TASK_EVALUATE_OPTIMIZATION)
def evaluate_optimization() -> dict[str, Any]:
    """Pace every paced campaign and evaluate every enabled rule (idempotent: cooldowns hold)."""
    return evaluation.run_after_sync()


@shared_task(name="adflux.tasks.optimization.allocate_budgets")
def allocate_budgets() -> dict[str, Any]:
    """Split every allocated campaign's daily budget between its ad groups (once a day per campaign)."""
    return daily.run_daily()


@shared_task(name="adflux.tasks.optimization.retrain_forecasts")
def retrain_forecasts() -> dict[str, Any]:
    """Train a new forecast version on the portal's history; it becomes active if it is no worse."""
    from adflux.services import forecasts

    return forecasts.retrain()
