"""What a training stores about the version it made: the SegmentationModel row with its
segments, their profiles and metrics, and the artifact's metadata."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from adflux._lazy import lazy_module
from adflux.models import Segment, SegmentationModel
from adflux.services.segmentation.versions import json_safe

if TYPE_CHECKING:
    from adflux.ml.profiles import SegmentProfile
    from adflux.ml.registry import StoredArtifact
    from adflux.ml.training import TrainingResult

ml_features = lazy_module("adflux.ml.features")
ml_pipeline = lazy_module("adflux.ml.pipeline")


def new_model(
    result: TrainingResult,
    version: int,
    window: dict[str, Any],
    trained_at: datetime,
    reference_year: int,
) -> SegmentationModel:
    """The version's row and its segments, enough to write assignments; `complete_model` adds the rest."""
    model = SegmentationModel(
        version=version,
        status="candidate",
        k=result.k,
        features=list(ml_features.MODEL_INPUT_COLUMNS),
        metrics={},
        silhouette=_finite(result.metrics["silhouette"]),
        davies_bouldin=_finite(result.metrics["davies_bouldin"]),
        calinski_harabasz=_finite(result.metrics["calinski_harabasz"]),
        inertia=_finite(result.metrics["inertia"]),
        training_size=result.n_samples,
        sample_size=result.fit_sample_size,
        library_versions=result.library_versions,
        data_window={**window, "trained_at": trained_at.isoformat(), "reference_year": reference_year},
        reference_profile={},
        # Names, profiles and the artifact are filled in before commit; nobody sees the rows before.
        artifact_uri="",
        artifact_sha256="",
    )
    sizes = result.sizes
    for cluster in range(result.k):
        model.segments.append(
            Segment(
                cluster_index=cluster,
                name=f"Segmento {cluster + 1}",
                size=int(sizes[cluster]),
                share=float(sizes[cluster] / max(result.n_samples, 1)),
            )
        )
    return model


def complete_model(
    model: SegmentationModel,
    *,
    profiles: list[SegmentProfile],
    stored: StoredArtifact,
    pca: dict[str, Any],
    reference: dict[str, Any],
    evaluation: dict[str, Any],
    drift_at_training: dict[str, Any] | None,
    result: TrainingResult,
) -> None:
    """Fill in what the training learned after the row was written: artifact, profiles, metrics."""
    model.artifact_uri, model.artifact_sha256 = stored.uri, stored.sha256
    model.reference_profile = json_safe(reference)
    model.persona_ari = evaluation.get("persona", {}).get("ari")
    fixed_sample = (model.metrics or {}).get("evaluation_sample")
    model.metrics = json_safe(
        {
            **({"evaluation_sample": fixed_sample} if fixed_sample else {}),
            "k_search": result.k_search,
            "k_selection": result.k_selection,
            "chosen": result.metrics,
            "sample_sizes": _sample_sizes(result),
            "weights": dict(ml_pipeline.DEFAULT_WEIGHTS),
            "pca": pca,
            **evaluation,
            **({"drift_at_training": drift_at_training} if drift_at_training else {}),
        }
    )
    by_cluster = {profile.cluster_index: profile for profile in profiles}
    for segment in model.segments:
        profile = by_cluster[segment.cluster_index]
        segment.name, segment.description = profile.name, profile.description
        segment.size, segment.share = profile.size, profile.share
        segment.profile = json_safe({**profile.profile, "distinctive": profile.distinctive})
        segment.pca_x, segment.pca_y = profile.pca_x, profile.pca_y


def artifact_metadata(
    result: TrainingResult,
    version: int,
    reference_year: int,
    seed: int,
    window: dict[str, Any],
    trained_at: datetime,
) -> dict[str, Any]:
    """What the artifact carries about its own making."""
    return {
        "version": version,
        "k": result.k,
        "features": list(ml_features.MODEL_INPUT_COLUMNS),
        "weights": dict(ml_pipeline.DEFAULT_WEIGHTS),
        "metrics": result.metrics,
        "k_search": result.k_search,
        "sample_sizes": _sample_sizes(result),
        "reference_year": reference_year,
        "random_state": seed,
        "data_window": window,
        "trained_at": trained_at.isoformat(),
    }


def _sample_sizes(result: TrainingResult) -> dict[str, int]:
    return {
        "training": result.n_samples,
        "fit": result.fit_sample_size,
        "score": result.score_sample_size,
        "silhouette": result.silhouette_sample_size,
    }


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
