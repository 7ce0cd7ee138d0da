"""Which version is active: the promotion rule, activating (rolling back or forward) a version,
and making a version active with its assignments written in bulk."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import SegmentationModel
from adflux.models.base import utcnow
from adflux.services import audit
from adflux.services.errors import Conflict
from adflux.services.segmentation.versions import (
    active_model,
    load_artifact,
    model_by_version,
    model_snapshot,
    reference_year,
    writers_lock,
)

ml_features = lazy_module("adflux.ml.features")
data = lazy_module("adflux.services.segmentation_data")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActivationDecision:
    """Whether a new version replaces the active one, and why."""

    activate: bool
    reason: str


def decide_activation(
    *,
    new_silhouette: float | None,
    active: SegmentationModel | None,
    tolerance: float,
    force: bool,
    active_silhouette: float | None = None,
) -> ActivationDecision:
    """The promotion rule: forced, first model, or silhouette within `tolerance` of the active one.

    `new_silhouette` and `active_silhouette` are both measured on the fixed evaluation sample
    (the same candidates, `ml.evaluation.evaluation_rows`) so like is compared with like; without
    `active_silhouette` (its artifact unreadable) the active version's recorded silhouette is used.
    """
    if force:
        return ActivationDecision(True, "forced")
    if active is None:
        return ActivationDecision(True, "no active model")
    if new_silhouette is None or not np.isfinite(new_silhouette):
        return ActivationDecision(False, "the new model has no silhouette")
    basis = "on the evaluation sample"
    if active_silhouette is None or not np.isfinite(active_silhouette):
        active_silhouette, basis = active.silhouette, "recorded"
    if active_silhouette is None or new_silhouette >= active_silhouette - tolerance:
        return ActivationDecision(
            True,
            f"silhouette {new_silhouette:.4f} >= active v{active.version} "
            f"{active_silhouette or 0:.4f} - {tolerance} ({basis})",
        )
    return ActivationDecision(
        False,
        f"silhouette {new_silhouette:.4f} < active v{active.version} {active_silhouette:.4f} - {tolerance}"
        f" ({basis})",
    )


def activate_model(*, version: int) -> SegmentationModel:
    """Make `version` the active model (roll back or forward): everyone is re-assigned in bulk."""
    # One writer of versions and assignments at a time: a training finishing meanwhile would
    # otherwise retire the version activated here.
    with writers_lock() as acquired:
        if not acquired:
            raise Conflict(_("A segmentation training is running; activate when it has finished"))
        return _activate_version(version)


def _activate_version(version: int) -> SegmentationModel:
    model = model_by_version(version)
    if model.status == "active":
        raise Conflict(_("Model version %(version)s is already active", version=version))
    artifact = load_artifact(model)
    candidates = data.read_candidate_columns()
    frame = ml_features.candidate_frame(candidates.table, reference_year=reference_year(model))
    labels = artifact.pipeline.predict(frame) if len(frame) else np.empty(0, dtype=np.int64)
    before = model_snapshot(active_model())
    make_active(model, candidates.ids, labels)
    audit.record(
        "segmentation.activate",
        entity_type="segmentation_model",
        entity_id=model.id,
        before=before,
        after=model_snapshot(model),
    )
    db.session.commit()
    logger.info("segmentation model v%d activated (%d candidates assigned)", model.version, len(labels))
    return model


def make_active(
    model: SegmentationModel,
    candidate_ids: np.ndarray,
    labels: np.ndarray,
    *,
    background: ThreadPoolExecutor | None = None,
) -> Future[None] | None:
    """Retire the active version, make `model` active and write its assignments (caller commits).

    With `background` the bulk write may still be running when this returns (see
    `segmentation_data.replace_assignments`).
    """
    for other in db.session.scalars(
        select(SegmentationModel).where(
            SegmentationModel.status == "active", SegmentationModel.id != model.id
        )
    ):
        other.status = "retired"
    model.status = "active"
    model.activated_at = utcnow()
    db.session.flush()
    by_cluster = {segment.cluster_index: segment.id for segment in model.segments}
    lookup = np.full(max(by_cluster) + 1, -1, dtype=np.int64)
    for cluster, segment_id in by_cluster.items():
        lookup[cluster] = segment_id
    segment_ids = lookup[np.asarray(labels, dtype=np.int64)] if len(labels) else np.empty(0, dtype=np.int64)
    return data.replace_assignments(
        model_id=model.id, candidate_ids=candidate_ids, segment_ids=segment_ids, background=background
    )
