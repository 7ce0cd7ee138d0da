"""The k search: fit K-means for each k on nested samples of the candidates and pick a well-formed k.

Choosing k (`_best_k`): the largest k in which *every* segment is well formed — each cluster's own
mean silhouette at least `WELL_FORMED_FRACTION` of the best overall silhouette of the search. The
overall silhouette alone is a mean over candidates, so on a skewed base (personas at 40/25/15/8/…
%) the coarse split of the big groups wins (k = 2, persona ARI 0.25–0.3) while small groups stay
merged; past the true number of groups, splitting one group leaves two clusters with poor
silhouettes and the rule stops. On the even base it picks what the overall silhouette picked.
Per-cluster silhouettes come from the same sample and distance matrix: no extra cost at 1M.

The rule is only as good as each k's fit: a k whose K-means stopped in a poor local optimum has a
poorly formed cluster and is passed over. On the colombia mix at 1M best-of-4 k-means++ starts
missed the personas' optimum at every k on one random state and the search fell back to k = 2
(persona ARI 0.28); each k now starts from the best of 12 starts or a start grown from k - 1's
centres (`k_seeding`), and the same base gives k = 6-7, ARI 0.92 on every random state tried.

The costs that matter at a million candidates (see ../shared/research/performance-anchors.md):
full silhouette is O(n²) (78 s at 100k), so it is always computed on a fixed-size sample, from one
precomputed distance matrix shared by every k; each k is fitted on a uniform sample (~100k), the
values of k side by side on threads. `training` then fits only the chosen k on all rows.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances
from threadpoolctl import threadpool_limits

from adflux.ml.evaluation import DispersionScores, silhouette_from_distances
from adflux.ml.k_seeding import DEFAULT_GROWN_STARTS, PlusPlusInFloat64, Start, best_starts

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float], None]
DEFAULT_K_MIN = 2
DEFAULT_K_MAX = 12
# K-means per k on 50k rows ranks k as well as on 100k (the final fit sees every row) at half the cost.
DEFAULT_FIT_SAMPLE_SIZE = 50_000
DEFAULT_RESTARTS = 12
# Few candidates, fuzzier structure: on 1,500 simulated candidates best-of-4 k-means++ starts
# still merged two personas at k=8 for 1 random state in 40 (best-of-10: 0 in 40), enough to
# tip the silhouette to a neighbouring k (tests/ml: random state 29 picks 9). Up to this many seed
# rows the search affords 10 starts (~30 ms a k at 1,500 rows); at 10k rows 4 starts already found
# the personas 40 times in 40.
SMALL_SEARCH_ROWS = 5_000
SMALL_SEARCH_RESTARTS = 10
SEARCH_TOL = 1e-3
DEFAULT_SEED_SAMPLE_SIZE = 5_000
# Davies–Bouldin and Calinski–Harabasz are O(n); `DispersionScores` costs ~15 ms per k at 20k rows.
DEFAULT_SCORE_SAMPLE_SIZE = 20_000
# 5k keeps the shared distance matrix at 100 MB (float32) and each silhouette at ~0.1 s; the
# sample is drawn once with a fixed seed, so every k is scored on the same candidates.
DEFAULT_SILHOUETTE_SAMPLE_SIZE = 5_000
# A cluster is well formed when its mean silhouette is at least this fraction of the search's best
# overall silhouette. Measured (bench/README.md, issue 26): a k that recovers the personas has its
# worst cluster at 0.46-0.48 of the best silhouette on the colombia mix (20k rows, seeds 123 and
# 7; 0.72-0.88 on mild, even and the tests' six-persona frame), while every k past the personas —
# one group split in two — is at 0.17-0.29 on the presets and 0.38 on the tests' frame. 0.42 sits
# in the middle of that gap: the 0.45 used before cleared colombia's k = 6-7 by 0.005-0.011 in
# silhouette, so a slightly worse fit at 1M fell back to k = 2. Measured, not derived.
WELL_FORMED_FRACTION = 0.42


@dataclass
class KSearch:
    """The outcome of `choose_k`: one metrics row per k and the sample models behind them."""

    results: list[dict[str, Any]]
    models: dict[int, KMeans]
    best_k: int
    fit_sample: np.ndarray
    score_sample: np.ndarray
    silhouette_sample: np.ndarray
    # The score sample's rows in float64 (Davies–Bouldin, Calinski–Harabasz), reused to score the
    # final model like the silhouette's distances below.
    dispersion: DispersionScores = field(repr=False)
    # Pairwise distances of the silhouette sample, reused to score the final model.
    silhouette_distances: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 0)))
    # How k was chosen (recorded with the model): rule, threshold, what silhouette alone picked.
    selection: dict[str, Any] = field(default_factory=dict)

    def scores(self, labels: np.ndarray) -> dict[str, float]:
        """Silhouette, Davies–Bouldin and Calinski–Harabasz of every row's `labels`, on the search's samples.

        For the final model: it is judged on the same candidates as every k of the search.
        """
        davies_bouldin, calinski_harabasz = self.dispersion(labels[self.score_sample])
        silhouette, _ = silhouette_from_distances(self.silhouette_distances, labels[self.silhouette_sample])
        return {
            "silhouette": silhouette,
            "davies_bouldin": davies_bouldin,
            "calinski_harabasz": calinski_harabasz,
        }


def choose_k(
    X: Any,
    *,
    k_values: Sequence[int] = range(DEFAULT_K_MIN, DEFAULT_K_MAX + 1),
    fit_sample_size: int = DEFAULT_FIT_SAMPLE_SIZE,
    score_sample_size: int = DEFAULT_SCORE_SAMPLE_SIZE,
    silhouette_sample_size: int = DEFAULT_SILHOUETTE_SAMPLE_SIZE,
    random_state: int = 0,
    restarts: int = DEFAULT_RESTARTS,
    seed_sample_size: int = DEFAULT_SEED_SAMPLE_SIZE,
    kmeans: KMeans | None = None,
    n_jobs: int | None = None,
    progress: ProgressCallback | None = None,
    grown_starts: int = DEFAULT_GROWN_STARTS,
) -> KSearch:
    """Fit K-means for every k on a uniform sample of X and score it; the best silhouette wins.

    Samples are nested and drawn once, so every k is judged on the same candidates: K-means and
    inertia on the fit sample, Davies–Bouldin and Calinski–Harabasz on a score sample inside it,
    silhouette on a fixed-size sample inside that. Ties go to the smaller k. `n_jobs` values of k
    are fitted at once (threads, one BLAS/OpenMP thread each; default: one per core). Each k
    starts from the best of `restarts` k-means++ starts and `grown_starts` starts grown from
    k - 1's centres (`k_seeding`)."""
    n = X.shape[0]
    k_values = _usable_k(k_values, n)
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(k_values)))
    samples = _draw_samples(
        n,
        fit_size=fit_sample_size,
        score_size=score_sample_size,
        silhouette_size=silhouette_sample_size,
        seed_size=seed_sample_size,
        random_state=random_state,
    )
    # Dense for the search: on a 100k sample dense K-means (BLAS) beats sparse, and the scores need it.
    X_fit = _dense_rows(X, samples.fit)
    with (
        threadpool_limits(limits=1),
        warnings.catch_warnings(),
        ThreadPoolExecutor(1, thread_name_prefix="k-distances") as side,
    ):
        # One distance matrix for all k (the k-independent part of silhouette), computed once,
        # on a thread of its own while the starts are searched (BLAS, mostly without the GIL).
        distances = side.submit(_distances, X_fit[samples.silhouette])
        search = _KSearchFit(
            base=kmeans if kmeans is not None else KMeans(n_init="auto"),
            X_fit=X_fit,
            # The seed rows' own copy when they are fewer than the fit sample (`_KSearchFit.seed`).
            X_seed=X_fit[samples.seed] if len(samples.seed) < len(samples.fit) else X_fit,
            dispersion=DispersionScores(X_fit[samples.score]),
            samples=samples,
            distances=np.empty((0, 0)),  # the side thread's, before any k is scored
            random_state=random_state,
            restarts=_search_restarts(restarts, len(samples.seed)),
        )
        # Every thread reads this one matrix: read-only, so a fit writing to it in place raises
        # instead of moving rows under its neighbours (`_KSearchFit.fit`). Duplicate points make
        # K-means warn; such a k is recorded as degenerate instead.
        X_fit.flags.writeable = False
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Starting centres for every k, on the seed sample: best of k-means++ restarts or grown
        # from k - 1's (`k_seeding`); then each k is refined on the fit sample and scored.
        search.starts.update(
            best_starts(
                search.seed,
                search.X_seed,
                k_values,
                random_state=random_state,
                grown_starts=grown_starts,
                n_jobs=n_jobs,
            )
        )
        search = replace(search, distances=distances.result())
        results, models = _fit_every_k(search, k_values, n_jobs=n_jobs, progress=progress)
    ordered = [results[k] for k in k_values]
    best_k, selection = _best_k(ordered)
    selection["starts"] = {
        "kmeans_plus_plus": search.restarts,
        "grown": grown_starts,
        "seed_rows": len(search.X_seed),
        "grown_won": [int(k) for k in k_values if search.starts[k].grown],
    }
    return KSearch(
        results=ordered,
        models=models,
        best_k=best_k,
        selection=selection,
        fit_sample=samples.fit,
        score_sample=samples.fit[samples.score],
        silhouette_sample=samples.fit[samples.silhouette],
        silhouette_distances=search.distances,
        dispersion=search.dispersion,
    )


def _usable_k(k_values: Sequence[int], n: int) -> list[int]:
    usable = sorted({int(k) for k in k_values if 2 <= int(k) < n})
    if not usable:
        raise ValueError(f"no k to try: need 2 <= k < n_samples ({n})")
    return usable


@dataclass(frozen=True)
class _SearchSamples:
    """The k search's nested samples: rows of X to fit on, and rows of that fit sample to score on."""

    fit: np.ndarray  # rows of X
    score: np.ndarray  # rows of the fit sample (Davies–Bouldin, Calinski–Harabasz)
    silhouette: np.ndarray  # rows of the fit sample, inside `score`
    seed: np.ndarray  # rows of the fit sample the k-means++ starts are drawn on


def _draw_samples(
    n: int, *, fit_size: int, score_size: int, silhouette_size: int, seed_size: int, random_state: int
) -> _SearchSamples:
    """Draw the nested samples once: one permutation of the fit sample, cut at each size."""
    rng = np.random.default_rng(random_state)
    fit = np.sort(rng.choice(n, size=fit_size, replace=False)) if n > fit_size else np.arange(n)
    order = rng.permutation(len(fit))
    return _SearchSamples(
        fit=fit,
        score=np.sort(order[: min(score_size, len(order))]),
        silhouette=np.sort(order[: min(silhouette_size, len(order))]),
        seed=np.sort(order[: min(seed_size, len(order))]),
    )


def _search_restarts(restarts: int, seed_rows: int) -> int:
    """k-means++ starts per k: at least `SMALL_SEARCH_RESTARTS` when the seed sample is small."""
    if restarts > 1 and seed_rows <= SMALL_SEARCH_ROWS:
        return max(restarts, SMALL_SEARCH_RESTARTS)
    return restarts


@dataclass(frozen=True)
class _KSearchFit:
    """Fits and scores one k on the search's samples; called from the search's worker threads."""

    base: KMeans
    X_fit: np.ndarray
    X_seed: np.ndarray  # rows the starts are searched on (`k_seeding.best_starts`)
    dispersion: DispersionScores  # the score sample's rows
    samples: _SearchSamples
    distances: np.ndarray  # pairwise distances of the silhouette sample
    random_state: int
    restarts: int
    starts: dict[int, Start] = field(default_factory=dict)  # filled before `fit` is called

    def __call__(self, k: int) -> tuple[dict[str, Any], KMeans]:
        # Each k on one OpenMP/BLAS thread, k values side by side: the search is many short fits
        # on <= 100k rows, where threads synchronising at every K-means iteration made it 3x
        # *slower* on this 2-core machine while other work ran (10.5 s vs 2.9 s at 1M candidates).
        # The limit is set in the worker thread: OpenMP's thread count is per calling thread.
        with threadpool_limits(limits=1):
            started = time.perf_counter()
            model = self.fit(k)
            return self.score(model, k, started), model

    def seed(self, k: int) -> KMeans:
        """The best of `restarts` k-means++ starts with `k` clusters on the seed sample."""
        # One k-means++ start can stall in a poor local optimum (two segments merged, one
        # split), which then skews the silhouette curve. Several cheap starts on a small
        # sample pick the best centres; the fit sample refines them in a few passes.
        # The search only ranks k values, so it stops at a 10x looser tolerance: past the true
        # number of segments K-means otherwise crawls (k=12: 50 iterations instead of 13 at
        # 1M candidates). The final fit on every row converges at the factory's tolerance.
        # copy_x=True whatever the factory says: with copy_x=False K-means subtracts the column
        # means from X in place and adds them back at the end, and X_fit (the seed matrix when
        # the sample is small) is shared by every thread, so a fit running beside another saw
        # its rows shift mid-fit and the same search gave different labels and silhouettes from
        # run to run (on generic float32 data the restore is not even exact). The cost is one
        # copy of the matrix per running thread (24 MB and ~3 ms at 50k rows).
        # k-means++ in float64 (k_seeding.PlusPlusInFloat64): the same starts, less CPU.
        model = clone(self.base).set_params(
            n_clusters=k,
            random_state=self.random_state,
            tol=SEARCH_TOL,
            copy_x=True,
            n_init=self.restarts,
            init=PlusPlusInFloat64() if self.base.init == "k-means++" else self.base.init,
        )
        return model.fit(self.X_seed)

    def fit(self, k: int) -> KMeans:
        """K-means with `k` clusters on the fit sample, from the best start found for `k`."""
        model = clone(self.base).set_params(
            n_clusters=k,
            random_state=self.random_state,
            tol=SEARCH_TOL,
            copy_x=True,
            init=self.starts[k].centres,
            n_init=1,
        )
        return model.fit(self.X_fit)

    def score(self, model: KMeans, k: int, started: float) -> dict[str, Any]:
        """The metrics row of one fitted k (`started`: when its fit began)."""
        labels = model.labels_
        davies_bouldin, calinski_harabasz = self.dispersion(labels[self.samples.score])
        overall, worst_cluster = silhouette_from_distances(self.distances, labels[self.samples.silhouette])
        return {
            "k": k,
            "silhouette": overall,
            "min_cluster_silhouette": worst_cluster,
            "davies_bouldin": davies_bouldin,
            "calinski_harabasz": calinski_harabasz,
            "inertia": float(model.inertia_),
            "n_iter": int(model.n_iter_),
            "grown_start": bool(self.starts[k].grown),
            # Fewer distinct clusters than k (duplicate points): never chosen if anything else is.
            "degenerate": bool(len(np.unique(labels)) < k),
            "seconds": round(time.perf_counter() - started, 4),
        }


def _fit_every_k(
    fit_one: Callable[[int], tuple[dict[str, Any], KMeans]],
    k_values: Sequence[int],
    *,
    n_jobs: int,
    progress: ProgressCallback | None,
) -> tuple[dict[int, dict[str, Any]], dict[int, KMeans]]:
    """Run `fit_one` for every k on `n_jobs` threads; metrics rows and models by k."""
    results: dict[int, dict[str, Any]] = {}
    models: dict[int, KMeans] = {}
    with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="k-search") as pool:
        # Largest k first: the slowest fits start early and the pool drains evenly.
        futures = {pool.submit(fit_one, k): k for k in sorted(k_values, reverse=True)}
        for done, future in enumerate(as_completed(futures), start=1):
            row, model = future.result()
            results[row["k"]], models[row["k"]] = row, model
            logger.debug("k=%d silhouette=%.4f", row["k"], row["silhouette"])
            if progress is not None:  # from this thread only: callbacks may touch the database
                progress("k_search", done / len(k_values))
    return results, models


# ---- helpers ------------------------------------------------------------------------------------
def _distances(X: np.ndarray) -> np.ndarray:
    with threadpool_limits(limits=1):  # per calling thread for OpenMP
        return np.asarray(pairwise_distances(X))


def _dense_rows(X: Any, rows: np.ndarray) -> np.ndarray:
    part = X[rows]
    return np.ascontiguousarray(part.toarray() if sp.issparse(part) else part)


def _best_k(results: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The chosen k and how: the largest k whose every cluster is well formed (module docstring)."""
    usable = [r for r in results if not r["degenerate"] and np.isfinite(r["silhouette"])]
    if not usable:
        usable = [r for r in results if np.isfinite(r["silhouette"])] or results
        logger.warning("no well-formed k in the search; choosing among degenerate fits")
    # max() keeps the first maximum, and results are in ascending k: ties go to the smaller k.
    by_silhouette = max(usable, key=lambda r: r["silhouette"] if np.isfinite(r["silhouette"]) else -np.inf)
    threshold = WELL_FORMED_FRACTION * by_silhouette["silhouette"]
    well_formed = [r for r in usable if r.get("min_cluster_silhouette", -np.inf) >= threshold]
    chosen = max(well_formed, key=lambda r: r["k"]) if well_formed else by_silhouette
    selection = {
        "rule": "largest k whose every cluster's mean silhouette >= fraction x best overall silhouette",
        "fraction": WELL_FORMED_FRACTION,
        "threshold": round(float(threshold), 6) if np.isfinite(threshold) else None,
        "by_silhouette_alone": int(by_silhouette["k"]),
        "well_formed": [int(r["k"]) for r in well_formed],
    }
    return int(chosen["k"]), selection
