"""Drift: how far today's candidates are from the data a version was trained on."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import SegmentationModel
from adflux.models.base import utcnow
from adflux.services.errors import Conflict
from adflux.services.segmentation.versions import (
    json_safe,
    load_artifact,
    reference_year,
    require_active_model,
)

if TYPE_CHECKING:
    import pandas as pd

ml_drift = lazy_module("adflux.ml.drift")
ml_features = lazy_module("adflux.ml.features")
data = lazy_module("adflux.services.segmentation_data")

logger = logging.getLogger(__name__)


def get_drift(*, refresh: bool = False) -> dict[str, Any]:
    """The active model's drift report: the last one recorded, or computed now if asked or missing."""
    model = require_active_model()
    if model.drift and not refresh and model.drift.get("model_version") == model.version:
        return model.drift
    return check_drift()


def check_drift() -> dict[str, Any]:
    """Compare today's candidates with the active model's training data and record the report."""
    model = require_active_model()
    if not model.reference_profile:
        raise Conflict(
            _("Model version %(version)s has no reference profile to compare with", version=model.version)
        )
    candidates = data.read_candidate_columns()
    if len(candidates) == 0:
        raise Conflict(_("There are no candidates to compare with the training data"))
    artifact = load_artifact(model)
    frame = ml_features.candidate_frame(candidates.table, reference_year=reference_year(model))
    labels = artifact.pipeline.predict(frame)
    report = ml_drift.compute_drift(model.reference_profile, frame, labels)
    report["shifted_segment_names"] = shifted_segment_names(model, report.get("shifted_segments", []))
    report = json_safe({**report, "model_version": model.version, "computed_at": utcnow().isoformat()})
    model.drift = report
    db.session.commit()
    logger.info("drift of v%d: score %.4f (%s)", model.version, report["score"], report["status"])
    return report


def shifted_segment_names(model: SegmentationModel, indexes: list[int]) -> list[str]:
    """The names of the segments (by cluster index) whose share moved beyond the threshold."""
    names = {segment.cluster_index: segment.name for segment in model.segments}
    return [names.get(index, f"#{index}") for index in indexes]


def drift_at_training(
    reference: dict[str, Any], frame: pd.DataFrame, previous: SegmentationModel | None
) -> dict[str, Any] | None:
    """Today's data against the active version's training data: recorded when retraining."""
    if previous is None or not reference:
        return None
    try:
        return ml_drift.compute_drift(reference, frame)
    except ValueError as exc:  # an older profile format
        logger.warning("drift against v%d not computed: %s", previous.version, exc)
        return None


def record_drift_at_training(
    previous: SegmentationModel | None, drift: dict[str, Any] | None, *, trained_at: datetime
) -> None:
    """Keep the drift measured while retraining as the previous version's report (caller commits)."""
    if previous is not None and drift is not None:
        previous.drift = json_safe(
            {
                **drift,
                "computed_at": trained_at.isoformat(),
                "model_version": previous.version,
            }
        )
