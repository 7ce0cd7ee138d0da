"""Agreement between segmentations: against simulated personas, and version against version."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

logger = logging.getLogger(__name__)


def adjusted_rand(labels_true: Any, labels_pred: Any) -> float:
    """Adjusted Rand index of two labelings of the same candidates (1 = identical partitions).

    scikit-learn's formula (`adjusted_rand_score`, from the pair confusion matrix), with the
    contingency table counted by `np.bincount` when both labelings are small non-negative integers
    (segment and persona indices): no sort of a million labels. Otherwise scikit-learn's own.
    """
    a, b = np.asarray(labels_true), np.asarray(labels_pred)
    if a.shape != b.shape:
        raise ValueError(f"labelings differ in length: {a.shape} vs {b.shape}")
    if a.size == 0:
        return float("nan")
    table = _small_contingency(a, b)
    if table is None:
        return float(adjusted_rand_score(a, b))
    return _ari_from_contingency(table)


_SMALL_LABELS = 4_096


def _small_contingency(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Counts per (a, b) label pair, or None when the labels are not small non-negative integers."""
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        return None
    low_a, high_a, low_b, high_b = a.min(), a.max(), b.min(), b.max()
    if min(low_a, low_b) < 0 or max(high_a, high_b) >= _SMALL_LABELS:
        return None
    width = int(high_b) + 1
    counts = np.bincount(a.astype(np.int64) * width + b, minlength=(int(high_a) + 1) * width)
    table = counts.reshape(-1, width)
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(np.int64)


def _ari_from_contingency(table: np.ndarray) -> float:
    """`sklearn.metrics.adjusted_rand_score` from a dense contingency table (same arithmetic)."""
    n = int(table.sum())
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    squares = int((table * table).sum())
    c11 = squares - n
    c01 = int((table @ columns).sum()) - squares
    c10 = int((table.T @ rows).sum()) - squares
    c00 = n * n - c01 - c10 - squares
    if c01 == 0 and c10 == 0:
        return 1.0
    return float(2.0 * (c00 * c11 - c10 * c01) / ((c00 + c10) * (c10 + c11) + (c00 + c01) * (c01 + c11)))


def aligned_adjusted_rand(ids_a: Any, labels_a: Any, ids_b: Any, labels_b: Any) -> tuple[float, int]:
    """ARI over the candidates two labelings share (matched by id), and how many that is.

    Used for version-to-version stability and for persona evaluation, where the personas table
    covers only the simulated candidates. Ids in a compact range (a candidate base's) are matched
    through a position table instead of a hash join.
    """
    ids_a, ids_b = np.asarray(ids_a), np.asarray(ids_b)
    if ids_a.size == 0 or ids_b.size == 0:
        return float("nan"), 0
    low = min(int(ids_a.min()), int(ids_b.min()))
    span = max(int(ids_a.max()), int(ids_b.max())) - low + 1
    if ids_a.dtype.kind not in "iu" or span > 4 * (ids_a.size + ids_b.size):
        left = pd.DataFrame({"id": ids_a, "a": np.asarray(labels_a)})
        right = pd.DataFrame({"id": ids_b, "b": np.asarray(labels_b)})
        joined = left.merge(right, on="id", how="inner")
        if joined.empty:
            return float("nan"), 0
        return adjusted_rand(joined["a"].to_numpy(), joined["b"].to_numpy()), len(joined)
    position = np.full(span, -1, dtype=np.int64)
    position[ids_b - low] = np.arange(ids_b.size)
    found = position[ids_a - low]
    shared = found >= 0
    if not shared.any():
        return float("nan"), 0
    a = np.asarray(labels_a)[shared]
    b = np.asarray(labels_b)[found[shared]]
    return adjusted_rand(a, b), int(shared.sum())


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

    For comparing versions: each is judged on the same candidates (`evaluation_rows`). One
    distance matrix and `silhouette_from_distances`: scikit-learn's `silhouette_score`, the same
    figure (tested), at a fraction of the CPU (~0.5 s per 5,000 rows there, twice per training).
    """
    from sklearn.metrics import pairwise_distances

    X = pipeline[:-1].transform(frame)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    labels = pipeline[-1].predict(X)
    if not 2 <= len(np.unique(labels)) <= len(labels) - 1:
        return float("nan")
    return silhouette_from_distances(pairwise_distances(X), labels)[0]


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean silhouette from a precomputed distance matrix, and the lowest of the clusters' own means.

    sklearn reduces the matrix row by row (~70 ms per k at 5k rows); summing distances per cluster
    with one matrix product does the same arithmetic in a few milliseconds, which matters when
    eleven values of k are scored.
    """
    clusters, codes = np.unique(labels, return_inverse=True)
    n = len(labels)
    if not 2 <= len(clusters) <= n - 1:
        return float("nan"), float("nan")
    membership = np.zeros((n, len(clusters)), dtype=distances.dtype)
    membership[np.arange(n), codes] = 1
    sums = (distances @ membership).astype(np.float64)  # distance from each row to each cluster
    counts = np.bincount(codes, minlength=len(clusters)).astype(np.float64)
    own = counts[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[np.arange(n), codes] / (own - 1)
        means = sums / counts
        means[np.arange(n), codes] = np.inf
        b = means.min(axis=1)
        scores = (b - a) / np.maximum(a, b)
    # As in sklearn: a candidate alone in its cluster scores 0.
    scores[(own == 1) | ~np.isfinite(scores)] = 0.0
    per_cluster = np.bincount(codes, weights=scores, minlength=len(clusters)) / counts
    return float(scores.mean()), float(per_cluster.min())


class DispersionScores:
    """Davies–Bouldin and Calinski–Harabasz of labellings of one fixed set of rows.

    scikit-learn's two scores each find the clusters' centroids again, cluster by cluster, in
    X's own dtype: ~60 ms per k at the search's 20,000 rows, eleven values of k and the final
    model (bench/README.md, fourteenth session). The rows here are copied to float64 once, with
    their squared norms; each labelling then costs two small matrix products: the centroids, and
    every row's distance to its own centroid (|x|² - 2x·c + |c|², clipped at 0). The same
    definitions as `davies_bouldin_score` and `calinski_harabasz_score`, in float64 throughout;
    tests/ml/test_ml_dispersion_scores.py holds them to scikit-learn's. Read-only once built:
    the search's threads share one instance.
    """

    def __init__(self, X: np.ndarray) -> None:
        self._rows = np.asarray(X, dtype=np.float64)
        self._squared = np.einsum("ij,ij->i", self._rows, self._rows)
        self._mean = self._rows.mean(axis=0)

    def __call__(self, labels: np.ndarray) -> tuple[float, float]:
        """(Davies–Bouldin, Calinski–Harabasz) of `labels`; NaN for both unless 2 <= clusters < rows."""
        clusters, codes = np.unique(labels, return_inverse=True)
        n, k = len(codes), len(clusters)
        if not 2 <= k <= n - 1:
            return float("nan"), float("nan")
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        membership = np.zeros((k, n))
        membership[codes, np.arange(n)] = 1.0
        centroids = (membership @ self._rows) / counts[:, None]
        centroid_squared = np.einsum("ij,ij->i", centroids, centroids)
        own = (self._rows @ centroids.T)[np.arange(n), codes]
        squared = np.maximum(self._squared - 2.0 * own + centroid_squared[codes], 0.0)
        within = float(squared.sum())
        between = float(counts @ ((centroids - self._mean) ** 2).sum(axis=1))
        calinski = 1.0 if within == 0.0 else between * (n - k) / (within * (k - 1.0))
        return _davies_bouldin(
            np.bincount(codes, weights=np.sqrt(squared), minlength=k) / counts, centroids
        ), calinski


def _davies_bouldin(spreads: np.ndarray, centroids: np.ndarray) -> float:
    """Davies–Bouldin from each cluster's mean distance to its centroid, as scikit-learn computes it."""
    gaps = centroids[:, None, :] - centroids[None, :, :]
    separations = np.sqrt(np.einsum("ijk,ijk->ij", gaps, gaps))
    if np.allclose(spreads, 0) or np.allclose(separations, 0):
        return 0.0
    separations[separations == 0] = np.inf
    return float(np.mean(np.max((spreads[:, None] + spreads) / separations, axis=1)))
