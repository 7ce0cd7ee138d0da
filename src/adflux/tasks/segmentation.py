"""Segmentation tasks (queue: training): train on demand, retrain monthly, check drift daily."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from adflux.constants import TASK_TRAIN_SEGMENTATION
from adflux.services import segmentation, task_runs
from adflux.tasks.base import run_tracked


def _threads(task: Task) -> int | None:
    # A prefork worker runs several processes on few cores: one BLAS/OpenMP thread each, or they
    # oversubscribe the machine. Inline (eager) training may use every core.
    return None if task.request.is_eager else 1


def _summary(model: Any) -> dict[str, Any]:
    return {
        "version": model.version,
        "status": model.status,
        "k": model.k,
        "silhouette": model.silhouette,
        "persona_ari": model.persona_ari,
        "notes": model.notes,
    }


def _already_done(task: Task) -> dict[str, Any] | None:
    """A redelivered task whose run already succeeded returns that result instead of training twice."""
    if not task.request.id:
        return None
    try:
        run = task_runs.get_task_run(task_id=task.request.id)
    except Exception:  # no run recorded: not a redelivery
        return None
    return run.result if run.status == "succeeded" else None


@shared_task(bind=True, name=TASK_TRAIN_SEGMENTATION)
def train_segmentation(
    self: Task, k_min: int | None = None, k_max: int | None = None, force: bool = False, seed: int = 0
) -> Any:
    """Train a new segmentation version; progress (stage, percent) goes to its TaskRun."""
    done = _already_done(self)
    if done is not None:
        return done

    def work(progress: Any) -> dict[str, Any]:
        model = segmentation.train_segmentation(
            k_min=k_min, k_max=k_max, force=force, seed=seed, progress=progress, n_threads=_threads(self)
        )
        # As after the scheduled retrain: the assignments of the KEEP_ASSIGNMENT_VERSIONS newest
        # versions and of the active one stay, older ones go (a partition dropped on PostgreSQL).
        return {**_summary(model), "assignments_pruned": segmentation.prune_assignments()}

    return run_tracked(self, "segmentation.train", work)


@shared_task(bind=True, name="adflux.tasks.segmentation.retrain_segmentation")
def retrain_segmentation(self: Task) -> Any:
    """Scheduled retraining (beat, monthly by default): promoted only if as good as the active model."""
    done = _already_done(self)
    if done is not None:
        return done

    def work(progress: Any) -> dict[str, Any]:
        model = segmentation.train_segmentation(progress=progress, n_threads=_threads(self))
        return {**_summary(model), "assignments_pruned": segmentation.prune_assignments()}

    return run_tracked(self, "segmentation.retrain", work)


@shared_task(bind=True, name="adflux.tasks.segmentation.check_drift")
def check_drift(self: Task) -> Any:
    """Record today's drift on the active model (beat: daily), where the drift alert reads it."""

    def work(progress: Any) -> dict[str, Any]:
        report = segmentation.check_drift()
        return {key: report.get(key) for key in ("model_version", "score", "status", "drifted_features")}

    return run_tracked(self, "segmentation.drift", work)
