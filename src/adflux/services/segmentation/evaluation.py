"""How a new version compares beyond its silhouette: persona ARI (simulated data only) and
agreement with the active version's assignments."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from adflux._lazy import lazy_module
from adflux.extensions import db
from adflux.models import SegmentationModel
from adflux.services.segmentation.versions import artifact_loader, reference_year

if TYPE_CHECKING:
    import pandas as pd

    from adflux.ml.registry import ModelArtifact
    from adflux.ml.training import TrainingResult
    from adflux.services.candidate_read import CandidateColumns

ml_evaluation = lazy_module("adflux.ml.evaluation")
ml_features = lazy_module("adflux.ml.features")
data = lazy_module("adflux.services.segmentation_data")


def start_evaluation_reads(
    previous: SegmentationModel | None, background: ThreadPoolExecutor
) -> Future[Any] | None:
    """On PostgreSQL, read personas and the active version's assignments in the background."""
    if not data.is_postgresql():
        return None
    engine = db.engine
    previous_id = previous.id if previous is not None else None

    def read() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
        personas = data.read_personas(engine=engine)
        assignments = data.read_assignments(previous_id, engine=engine) if previous_id is not None else None
        return personas, assignments

    return background.submit(read)


def evaluate(
    ids: np.ndarray,
    result: TrainingResult,
    prefetched: Future[Any] | None,
    previous: SegmentationModel | None,
) -> dict[str, Any]:
    """Persona ARI (simulated data only) and agreement with the active version's assignments."""
    if prefetched is not None:
        (persona_ids, personas), old = prefetched.result()
    else:
        persona_ids, personas = data.read_personas()
        old = data.read_assignments(previous.id) if previous is not None else None
    out: dict[str, Any] = {}
    if len(persona_ids):
        ari, shared = ml_evaluation.aligned_adjusted_rand(ids, result.labels, persona_ids, personas)
        if shared:
            out["persona"] = {"ari": round(ari, 6), "candidates": shared}
    if previous is not None and old is not None and len(old[0]):
        ari, shared = ml_evaluation.aligned_adjusted_rand(ids, result.labels, old[0], old[1])
        out["stability"] = {"ari": round(ari, 6), "candidates": shared, "against_version": previous.version}
    return out


def start_active_load(
    previous: SegmentationModel | None, background: ThreadPoolExecutor
) -> Future[ModelArtifact] | None:
    """Load the active version's artifact on a worker thread (it imports skops: ~0.4-0.6 s of CPU).

    Started before the candidates are read: it needs only the version, and in `adflux
    train-segments` the read started at start-up is usually still under way, the main thread idle.
    """
    if previous is None:
        return None
    return background.submit(artifact_loader(previous))


def start_active_scoring(
    previous: SegmentationModel | None,
    candidates: CandidateColumns,
    background: ThreadPoolExecutor,
    loading: Future[ModelArtifact] | None = None,
) -> Future[dict[str, Any]] | None:
    """The active version's silhouette on the fixed evaluation sample, on a worker thread.

    It depends only on the active version and the candidates, so it can run while the new
    version trains (the silhouette is BLAS work), or, when the promotion does not wait for it
    (`--force`), after the new version's fit, beside the assignments' write. `loading`: the
    artifact's load (`start_active_load`), submitted to the same pool earlier; without it the
    load happens here.
    """
    if previous is None:
        return None
    if loading is None:
        loading = background.submit(artifact_loader(previous))
    return background.submit(_active_scores, loading.result, reference_year(previous), candidates)


def _active_scores(
    load: Callable[[], ModelArtifact], year: int, candidates: CandidateColumns
) -> dict[str, Any]:
    try:
        active = load()
    except Exception as exc:
        return {"active_error": str(exc)[:200]}
    table = candidates.table.take(ml_evaluation.evaluation_rows(candidates.ids))
    active_frame = ml_features.candidate_frame(table, reference_year=year)
    return {"active_silhouette": round(ml_evaluation.pipeline_silhouette(active.pipeline, active_frame), 6)}


def fixed_sample_scores(
    candidates: CandidateColumns,
    frame: pd.DataFrame,
    result: TrainingResult,
    previous: SegmentationModel | None,
    active_scoring: Future[dict[str, Any]] | None = None,
    *,
    with_active: bool = True,
) -> dict[str, Any]:
    """The new and the active version's silhouettes on the same fixed evaluation sample.

    The sample is chosen by a hash of candidate id (`ml.evaluation.evaluation_rows`), so every
    version is scored on the same candidates whatever its training seed; each version reads them
    through its own pipeline. An active version whose artifact cannot be loaded gets no score.
    The active version's half is `active_scoring`'s when it was started (`start_active_scoring`);
    `with_active=False` leaves it out (the caller adds `active_scores` later).
    """
    rows = ml_evaluation.evaluation_rows(candidates.ids)
    out: dict[str, Any] = {
        "size": len(rows),
        "chosen_by": "smallest hash of candidate id",
        "silhouette": round(ml_evaluation.pipeline_silhouette(result.pipeline, frame.iloc[rows]), 6),
    }
    if previous is not None:
        out["against_version"] = previous.version
        if with_active:
            out.update(active_scores(previous, candidates, active_scoring))
    return out


def active_scores(
    previous: SegmentationModel, candidates: CandidateColumns, active_scoring: Future[dict[str, Any]] | None
) -> dict[str, Any]:
    """The active version's half of `fixed_sample_scores`: `active_scoring`'s, or computed now."""
    if active_scoring is not None:
        return active_scoring.result()
    return _active_scores(artifact_loader(previous), reference_year(previous), candidates)
