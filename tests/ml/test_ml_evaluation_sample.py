"""The fixed evaluation sample: chosen by candidate id, the same whatever the seed, stable as the base
grows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adflux.ml.evaluation import evaluation_rows, id_hash, pipeline_silhouette
from adflux.ml.training import TrainingResult, train_segmenter


def test_the_sample_depends_only_on_candidate_ids_and_survives_growth() -> None:
    ids = np.arange(1, 20_001, dtype=np.int64)
    rows = evaluation_rows(ids, size=1000)
    assert len(rows) == 1000 and np.all(np.diff(rows) > 0)
    # The same ids in another order: the same candidates.
    shuffled = np.random.default_rng(3).permutation(ids)
    assert set(shuffled[evaluation_rows(shuffled, size=1000)]) == set(ids[rows])
    # The base grows by 10 %: about 90 % of the sample stays (uniform displacement), none leave otherwise.
    grown = np.arange(1, 22_001, dtype=np.int64)
    kept = set(ids[rows]) & set(grown[evaluation_rows(grown, size=1000)])
    assert 850 <= len(kept) < 1000
    # A uniform draw: the hash spreads ids evenly (half the sample below the median id, roughly).
    assert 400 < np.sum(ids[rows] <= 10_000) < 600
    assert len(np.unique(id_hash(ids))) == len(ids)
    assert np.array_equal(evaluation_rows(ids[:50], size=1000), np.arange(50))


def test_two_seeds_score_the_same_partition_identically_on_the_fixed_sample(frame: pd.DataFrame) -> None:
    ids = np.arange(1, len(frame) + 1)
    rows = evaluation_rows(ids, size=1500)
    one = train_segmenter(frame, k_min=6, k_max=6, random_state=0, silhouette_sample_size=500)
    two = train_segmenter(frame, k_min=6, k_max=6, random_state=1, silhouette_sample_size=500)
    assert _same_partition(one, two)
    # Search silhouettes come from seed-dependent samples; the fixed sample gives one figure.
    assert one.metrics["silhouette"] != two.metrics["silhouette"]
    sample = frame.iloc[rows]
    assert abs(pipeline_silhouette(one.pipeline, sample) - pipeline_silhouette(two.pipeline, sample)) < 1e-6


def _same_partition(a: TrainingResult, b: TrainingResult) -> bool:
    from adflux.ml.evaluation import adjusted_rand

    return adjusted_rand(a.labels, b.labels) > 0.999


def test_adjusted_rand_counts_small_labels_itself_and_matches_scikit_learn():
    from sklearn.metrics import adjusted_rand_score

    from adflux.ml.evaluation import adjusted_rand, aligned_adjusted_rand

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 50, 20_000):
        for _ in range(4):
            a = rng.integers(0, rng.integers(1, 9), n)
            b = (a + (rng.random(n) < 0.3) * rng.integers(0, 4, n)) % rng.integers(1, 9)
            assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    # large or negative labels take scikit-learn's path: the same figure
    a = rng.integers(0, 5, 5_000)
    assert adjusted_rand(a * 10_000 - 7, a % 3) == pytest.approx(adjusted_rand_score(a, a % 3), abs=1e-12)
    # aligned by id: a position table for compact ids, a join for scattered ones, the same answer
    ids = np.arange(100, 20_100)
    order = rng.permutation(len(ids))[:15_000]
    labels, other = rng.integers(0, 6, len(ids)), rng.integers(0, 4, len(ids))
    shared = np.isin(ids, ids[order])
    expected = adjusted_rand_score(labels[shared], other[shared])
    assert aligned_adjusted_rand(ids, labels, ids[order], other[order]) == (pytest.approx(expected), 15_000)
    scattered = ids * 1_000_003
    got = aligned_adjusted_rand(scattered, labels, scattered[order], other[order])
    assert got == (pytest.approx(expected), 15_000)
    assert aligned_adjusted_rand(ids[:5], labels[:5], np.array([10**12]), np.array([1]))[1] == 0


def test_a_versions_silhouette_on_the_sample_is_scikit_learns(trained, frame: pd.DataFrame) -> None:
    """`pipeline_silhouette` sums one distance matrix per cluster: scikit-learn's figure, cheaper."""
    from sklearn.metrics import silhouette_score

    sample = frame.iloc[evaluation_rows(np.arange(1, len(frame) + 1), size=1200)]
    X = trained.pipeline[:-1].transform(sample)
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    expected = silhouette_score(X, trained.pipeline[-1].predict(X))
    assert abs(pipeline_silhouette(trained.pipeline, sample) - expected) < 1e-6
