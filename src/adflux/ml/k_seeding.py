"""Starting centres for every k of the k search: the best of k-means++ restarts, then grown from k - 1.

Why growing matters (bench/README.md, issue 26): on a skewed base (personas at 40/25/15/8/5/4/2/1
%) most k-means++ starts end in a poor local optimum — two big groups split, two small ones
merged. On the colombia preset at 1M (seed 123) the optimum at k = 6 (persona ARI 0.92) came out
of 7 random starts in 16 and the one at k = 7 of 3 in 16, so best-of-4 missed both on one random
state; every k then had a poorly formed cluster and the search fell back to k = 2 (ARI 0.28).
The lowest inertia was always the right partition, so the fix is to search harder, not to change
what is optimised: k - 1's best centres plus one new centre drawn k-means++-style (by squared
distance to the nearest centre) is a start that keeps what the smaller k already found. Every k
keeps whichever start, random or grown, reaches the lower inertia on the seed sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans

# Private: the public kmeans_plusplus checks X and computes its norms again at every call.
from sklearn.cluster._kmeans import _kmeans_plusplus
from sklearn.utils import check_random_state
from sklearn.utils.extmath import row_norms
from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")

# Grown starts tried per k; each is one K-means on the seed sample (~10k rows, tens of ms).
DEFAULT_GROWN_STARTS = 3


@dataclass(frozen=True)
class Start:
    """Centres to start one k's fit from, and their inertia on the seed sample."""

    centres: np.ndarray
    inertia: float
    grown: bool = False  # True: grown from k - 1's centres


def best_starts(
    fit_seed: Callable[[int], KMeans],
    X_seed: np.ndarray,
    k_values: Sequence[int],
    *,
    random_state: int,
    grown_starts: int = DEFAULT_GROWN_STARTS,
    n_jobs: int = 1,
) -> dict[int, Start]:
    """Each k's best start: `fit_seed(k)` (k-means++ restarts on `X_seed`) or one grown from k - 1.

    The k-means++ fits run side by side on `n_jobs` threads; growing goes up k by k (each k
    starts from the best of the one below), its tries side by side. Deterministic for a given
    `random_state` whatever `n_jobs` is.
    """
    ordered = sorted(k_values)
    with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="k-seed") as pool:
        seeded = dict(zip(ordered, pool.map(_one_thread(fit_seed), ordered), strict=True))
        starts = {k: Start(model.cluster_centers_, float(model.inertia_)) for k, model in seeded.items()}
        if grown_starts < 1:
            return starts
        template = clone(seeded[ordered[0]]).set_params(n_init=1, copy_x=True)
        for below, k in itertools.pairwise(ordered):
            if k != below + 1:
                continue
            rng = np.random.default_rng([random_state, k])
            inits = [_grow(starts[below].centres, X_seed, rng) for _ in range(grown_starts)]
            fits = pool.map(_one_thread(partial(_refit, template, k, X=X_seed)), inits)
            for model in fits:
                if float(model.inertia_) < starts[k].inertia:
                    starts[k] = Start(model.cluster_centers_, float(model.inertia_), grown=True)
    return starts


class PlusPlusInFloat64:
    """k-means++ starts for one K-means fit (its `init` callable), on a float64 copy of X made once.

    scikit-learn's own k-means++ on float32 rows computes every candidate's distances on float64
    copies of X made again, batch by batch, at each of the k centres' draws: 0.3-0.4 s of CPU of
    the k search's ~1.5 s of starts at 1M candidates (bench/README.md, twelfth session). Its public
    `kmeans_plusplus` also checks every value of X and computes its row norms at each call, which
    for the 12 restarts of one fit are the same X: ~0.35 s of CPU of the ~1 s the search's 132
    k-means++ starts take (fourteenth session). So the float64 copy and its squared norms are made
    on the first call and reused while K-means passes the same array (it passes its own centred
    copy, unchanged between restarts), and the draws go to the private `_kmeans_plusplus` that the
    public function calls after its checks. The same draws from `random_state` in the same order;
    the centres are rows of X in its own dtype; only the distances' last rounding differs (kept in
    float64). tests/ml/test_ml_k_seeding.py holds it to scikit-learn's own starts.

    One instance per fit: a fit's restarts run one after another on one thread. A copy (as
    `clone` makes) starts empty.
    """

    def __init__(self) -> None:
        self._rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # X, float64 X, norms

    def __call__(self, X: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
        if self._rows is None or self._rows[0] is not X:
            rows = np.asarray(X, dtype=np.float64)
            self._rows = (X, rows, row_norms(rows, squared=True))
        _, rows, squared_norms = self._rows
        if len(rows) < n_clusters:
            raise ValueError(f"n_samples={len(rows)} should be >= n_clusters={n_clusters}.")
        centres, _ = _kmeans_plusplus(
            rows, n_clusters, squared_norms, np.ones(len(rows)), check_random_state(random_state)
        )
        return centres.astype(X.dtype, copy=False)

    def __deepcopy__(self, memo: dict[int, Any]) -> PlusPlusInFloat64:
        return type(self)()


def _one_thread(func: Callable[[T], R]) -> Callable[[T], R]:
    """`func` on one BLAS/OpenMP thread (the limit is per calling thread)."""

    def limited(arg: T) -> R:
        with threadpool_limits(limits=1):
            return func(arg)

    return limited


def _grow(centres: np.ndarray, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`centres` plus one row of X drawn with probability proportional to its squared distance."""
    squared = (
        np.einsum("ij,ij->i", X, X)[:, None] - 2.0 * (X @ centres.T) + np.einsum("ij,ij->i", centres, centres)
    )
    nearest = np.maximum(squared.min(axis=1), 0.0).astype(np.float64)
    total = nearest.sum()
    row = rng.choice(len(X), p=nearest / total) if total > 0 else rng.integers(len(X))
    return np.vstack([centres, X[row][None, :]]).astype(X.dtype, copy=False)


def _refit(template: KMeans, k: int, init: np.ndarray, *, X: np.ndarray) -> KMeans:
    return clone(template).set_params(n_clusters=k, init=init, n_init=1).fit(X)
