"""Agreement between segmentations: against simulated personas, and version against version."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

logger = logging.getLogger(__name__)


def adjusted_rand(labels_true: Any, labels_pred: Any) -> float:
    """Adjusted Rand index of two labelings of the same candidates (1 = identical partitions)."""
    a, b = np.asarray(labels_true), np.asarray(labels_pred)
    if a.shape != b.shape:
        raise ValueError(f"labelings differ in length: {a.shape} vs {b.shape}")
    if a.size == 0:
        return float("nan")
    return float(adjusted_rand_score(a, b))


def aligned_adjusted_rand(ids_a: Any, labels_a: Any, ids_b: Any, labels_b: Any) -> tuple[float, int]:
    """ARI over the candidates two labelings share (matched by id), and how many that is.

    Used for version-to-version stability and for persona evaluation, where the personas table
    covers only the simulated candidates.
    """
    left = pd.DataFrame({"id": np.asarray(ids_a), "a": np.asarray(labels_a)})
    right = pd.DataFrame({"id": np.asarray(ids_b), "b": np.asarray(labels_b)})
    joined = left.merge(right, on="id", how="inner")
    if joined.empty:
        return float("nan"), 0
    return adjusted_rand(joined["a"].to_numpy(), joined["b"].to_numpy()), len(joined)


def contingency(labels_true: Any, labels_pred: Any) -> pd.DataFrame:
    """Counts per (true label, segment): which persona ended up where."""
    return pd.crosstab(
        pd.Series(np.asarray(labels_true), name="true"), pd.Series(np.asarray(labels_pred), name="segment")
    )


def majority_mapping(labels_true: Any, labels_pred: Any) -> dict[int, Any]:
    """For each segment, the true label most of its members carry (for reports)."""
    table = contingency(labels_true, labels_pred)
    return {int(segment): table[segment].idxmax() for segment in table.columns}


# ---- the fixed evaluation sample -----------------------------------------------------------------
DEFAULT_EVALUATION_SIZE = 5_000
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def id_hash(ids: Any) -> np.ndarray:
    """A fixed pseudo-random 64-bit hash of each candidate id (splitmix64's finaliser)."""
    x = np.asarray(ids, dtype=np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _MIX_1
        x = (x ^ (x >> np.uint64(27))) * _MIX_2
    return x ^ (x >> np.uint64(31))


def evaluation_rows(ids: Any, size: int = DEFAULT_EVALUATION_SIZE) -> np.ndarray:
    """Rows (sorted) of the candidates in the evaluation sample: the `size` smallest id hashes.

    Chosen by candidate id, not by a seed: every version is scored on the same candidates, and as
    the base grows a candidate leaves the sample only when a newer one with a smaller hash takes
    its place (the sample stays a uniform draw of the whole base).
    """
    hashes = id_hash(ids)
    if len(hashes) <= size:
        return np.arange(len(hashes))
    return np.sort(np.argpartition(hashes, size - 1)[:size])


def pipeline_silhouette(pipeline: Any, frame: pd.DataFrame) -> float:
    """Silhouette of `pipeline`'s own segments of `frame`, in its own feature space (exact, all rows).

    For comparing versions: each is judged on the same candidates (`evaluation_rows`).
    """
    from sklearn.metrics import silhouette_score

    X = pipeline[:-1].transform(frame)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    labels = pipeline[-1].predict(X)
    if not 2 <= len(np.unique(labels)) <= len(labels) - 1:
        return float("nan")
    return float(silhouette_score(X, labels))
