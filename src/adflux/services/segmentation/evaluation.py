"""How a new version compares beyond its silhouette: persona ARI (simulated data only) and
agreement with the active version's assignments."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from adflux._lazy import lazy_module
from adflux.extensions import db
from adflux.models import SegmentationModel

if TYPE_CHECKING:
    from adflux.ml.training import TrainingResult

ml_evaluation = lazy_module("adflux.ml.evaluation")
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
