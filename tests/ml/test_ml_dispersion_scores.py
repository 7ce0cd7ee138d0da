"""Davies–Bouldin and Calinski–Harabasz from one float64 copy of the rows: scikit-learn's figures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from adflux.ml.evaluation import DispersionScores


def _blobs(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    return rng.normal(0, 3, (k, 9))[labels] + rng.normal(0, 1, (n, 9)), labels


@pytest.mark.parametrize("seed", range(4))
def test_the_scores_are_scikit_learns_for_every_labelling_of_the_same_rows(seed: int) -> None:
    X, _ = _blobs(3_000, 6, seed)
    scores = DispersionScores(X)
    rng = np.random.default_rng(seed)
    for k in (2, 3, 6, 11):
        labels = rng.integers(0, k, len(X)) * 7 + 100  # any label values, not 0..k-1
        davies_bouldin, calinski_harabasz = scores(labels)
        assert davies_bouldin == pytest.approx(davies_bouldin_score(X, labels), rel=1e-10)
        assert calinski_harabasz == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-10)


def test_float32_rows_score_within_scikit_learns_own_float32_rounding() -> None:
    X, labels = _blobs(5_000, 5, 9)
    rows = X.astype(np.float32)
    davies_bouldin, calinski_harabasz = DispersionScores(rows)(labels)
    # scikit-learn keeps float32 rows in float32; the float64 scores of the same values are the truth.
    assert davies_bouldin == pytest.approx(davies_bouldin_score(rows.astype(np.float64), labels), rel=1e-10)
    assert davies_bouldin == pytest.approx(davies_bouldin_score(rows, labels), rel=1e-4)
    assert calinski_harabasz == pytest.approx(calinski_harabasz_score(rows, labels), rel=1e-4)


def test_the_edge_cases_match_scikit_learn_and_fewer_than_two_clusters_is_nan() -> None:
    # Every row on its cluster's centroid: no spread within (Calinski–Harabasz 1.0, Davies–Bouldin 0).
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 1.0], [2.0, 8.0]]), 4, axis=0)
    labels = np.repeat([0, 1, 2], 4)
    assert DispersionScores(X)(labels) == (
        davies_bouldin_score(X, labels),
        calinski_harabasz_score(X, labels),
    )
    # Two clusters with one centroid: their separation is infinite for Davies–Bouldin, as there.
    Y = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [1.0, -1.0], [5.0, 5.0], [7.0, 5.0]])
    twins = np.array([0, 0, 1, 1, 2, 2])
    assert DispersionScores(Y)(twins)[0] == pytest.approx(davies_bouldin_score(Y, twins), rel=1e-12)
    assert all(np.isnan(DispersionScores(Y)(np.zeros(len(Y), dtype=int))))
    assert all(np.isnan(DispersionScores(Y)(np.arange(len(Y)))))
