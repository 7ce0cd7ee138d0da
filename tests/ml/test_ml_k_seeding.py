"""The k search's starting centres: best of k-means++ restarts, or grown from k - 1's centres."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans, kmeans_plusplus

from adflux.ml.k_seeding import PlusPlusInFloat64, best_starts

SHARES = (0.40, 0.25, 0.15, 0.08, 0.05, 0.04, 0.02, 0.01)  # the colombia preset's skew


def _skewed_blobs(n: int = 4_000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.5, (len(SHARES), 12))
    groups = rng.choice(len(SHARES), size=n, p=SHARES)
    return (centres[groups] + rng.normal(0, 1.0, (n, 12))).astype(np.float32)


def _seed_fit(X: np.ndarray, random_state: int) -> Callable[[int], KMeans]:
    def fit(k: int) -> KMeans:
        return KMeans(n_clusters=k, n_init=1, random_state=random_state, tol=1e-3).fit(X)

    return fit


@pytest.mark.parametrize("random_state", range(6))
def test_every_k_keeps_its_best_start_and_growing_never_makes_it_worse(random_state: int) -> None:
    X = _skewed_blobs()
    k_values = range(2, 10)
    plain = best_starts(_seed_fit(X, random_state), X, k_values, random_state=random_state, grown_starts=0)
    grown = best_starts(_seed_fit(X, random_state), X, k_values, random_state=random_state, grown_starts=3)
    for k in k_values:
        assert grown[k].centres.shape == (k, X.shape[1])
        assert grown[k].inertia <= plain[k].inertia + 1e-6
        # A start's inertia is what K-means reaches from its centres on these rows.
        again = KMeans(n_clusters=k, init=grown[k].centres, n_init=1, tol=1e-3).fit(X)
        assert again.inertia_ == pytest.approx(grown[k].inertia, rel=1e-3)
        assert not plain[k].grown


def test_growing_finds_lower_optima_than_single_random_starts_on_a_skewed_mix() -> None:
    X = _skewed_blobs()
    won, improvement = 0, 0.0
    for random_state in range(6):
        fit = _seed_fit(X, random_state)
        plain = best_starts(fit, X, range(2, 10), random_state=random_state, grown_starts=0)
        grown = best_starts(fit, X, range(2, 10), random_state=random_state, grown_starts=3)
        won += sum(grown[k].grown for k in range(3, 10))
        improvement += sum(plain[k].inertia - grown[k].inertia for k in range(3, 10))
    assert won > 0 and improvement > 0


def test_the_starts_do_not_depend_on_the_number_of_threads() -> None:
    X = _skewed_blobs(2_000)
    one = best_starts(_seed_fit(X, 4), X, range(2, 9), random_state=4, n_jobs=1)
    two = best_starts(_seed_fit(X, 4), X, range(2, 9), random_state=4, n_jobs=2)
    for k in range(2, 9):
        np.testing.assert_array_equal(one[k].centres, two[k].centres)
        assert one[k].grown == two[k].grown


@pytest.mark.parametrize("random_state", range(4))
def test_float64_plusplus_draws_the_starts_scikit_learn_draws(random_state: int) -> None:
    """The search's k-means++ (distances on one float64 copy of X) picks the rows scikit-learn's
    own k-means++ picks on float32 X, from the same random draws: the same fits, less CPU."""
    X = _skewed_blobs(3_000, seed=random_state)
    for k in (2, 5, 8, 11):
        # One instance per fit, as the k search makes it: its six restarts share one float64 copy.
        own = KMeans(n_clusters=k, n_init=6, random_state=random_state, init=PlusPlusInFloat64()).fit(X)
        theirs = KMeans(n_clusters=k, n_init=6, random_state=random_state).fit(X)
        assert own.cluster_centers_.dtype == np.float32
        np.testing.assert_array_equal(own.labels_, theirs.labels_)
        assert own.inertia_ == theirs.inertia_
        rng = np.random.RandomState(random_state)
        centres = PlusPlusInFloat64()(X, k, rng)
        rows = {row.tobytes() for row in X}
        assert centres.dtype == np.float32 and all(centre.tobytes() in rows for centre in centres)


def test_one_instance_draws_what_scikit_learns_public_kmeans_plusplus_draws_call_after_call() -> None:
    """The float64 copy and norms made on the first call serve the next calls on the same array;
    another array (or one changed into a new object) gets its own. Each call draws exactly what
    scikit-learn's public, checking `kmeans_plusplus` draws on float64 rows from the same state."""
    X, other = _skewed_blobs(2_000, seed=5), _skewed_blobs(1_500, seed=6)
    starts = PlusPlusInFloat64()
    ours, theirs = np.random.RandomState(11), np.random.RandomState(11)
    for rows, k in ((X, 3), (X, 7), (other, 5), (X, 8), (X, 8)):
        expected, _ = kmeans_plusplus(rows.astype(np.float64), k, random_state=theirs)
        got = starts(rows, k, ours)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected.astype(np.float32))
    assert starts._rows is not None and starts._rows[0] is X  # the last array's copy, kept
    with pytest.raises(ValueError, match="n_clusters=9"):
        starts(X[:8], 9, ours)


def test_a_copied_instance_starts_without_the_cached_rows() -> None:
    starts = PlusPlusInFloat64()
    starts(_skewed_blobs(500), 3, np.random.RandomState(0))
    assert copy.deepcopy(starts)._rows is None
    assert clone(KMeans(init=starts)).init._rows is None
