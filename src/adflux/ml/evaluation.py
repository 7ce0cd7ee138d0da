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
