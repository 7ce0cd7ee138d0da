"""Training: transform once, choose k on a sample by silhouette, fit the final model, assign everyone.

The costs that matter at a million candidates (see ../shared/research/performance-anchors.md):
full silhouette is O(n²) (78 s at 100k), so it is always computed on a fixed-size sample, from one
precomputed distance matrix shared by every k; each k is fitted on a uniform sample (~100k) and
only the chosen k is fitted on all rows, warm-started from the sample's centres so it converges
in a few passes.
"""

from __future__ import annotations

import logging
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
)
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from adflux.ml.features import MODEL_INPUT_COLUMNS
from adflux.ml.pipeline import DEFAULT_MAX_SKILLS, build_segmenter

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, float], None]
DEFAULT_K_MIN = 2
DEFAULT_K_MAX = 12
# K-means per k on 50k rows ranks k as well as on 100k (the final fit sees every row) at half the cost.
DEFAULT_FIT_SAMPLE_SIZE = 50_000
DEFAULT_RESTARTS = 4
# Few candidates, fuzzier structure: on 1,500 simulated candidates best-of-4 k-means++ starts
# still merged two personas at k=8 for 1 random state in 40 (best-of-10: 0 in 40), enough to
# tip the silhouette to k=7. Up to this many seed rows the search affords 10 starts (~30 ms a k
# at 1,500 rows); at 10k rows 4 starts already found the personas 40 times in 40.
SMALL_SEARCH_ROWS = 5_000
SMALL_SEARCH_RESTARTS = 10
SEARCH_TOL = 1e-3
SMALL_DATA_ROWS = 200_000
DEFAULT_SEED_SAMPLE_SIZE = 10_000
# Davies–Bouldin and Calinski–Harabasz are O(n) but still cost ~40 ms per k at 100k rows.
DEFAULT_SCORE_SAMPLE_SIZE = 20_000
# 5k keeps the shared distance matrix at 100 MB (float32) and each silhouette at ~0.1 s; the
# sample is drawn once with a fixed seed, so every k is scored on the same candidates.
DEFAULT_SILHOUETTE_SAMPLE_SIZE = 5_000
LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "pyarrow", "skops", "threadpoolctl")


@dataclass
class KSearch:
    """The outcome of `choose_k`: one metrics row per k and the sample models behind them."""

    results: list[dict[str, Any]]
    models: dict[int, KMeans]
    best_k: int
    fit_sample: np.ndarray
    score_sample: np.ndarray
    silhouette_sample: np.ndarray
    # Pairwise distances of the silhouette sample, reused to score the final model.
    silhouette_distances: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 0)))


@dataclass
class TrainingResult:
    """A fitted segmentation and everything worth recording about how it was made."""

    pipeline: Pipeline
    k: int
    labels: np.ndarray
    k_search: list[dict[str, Any]]
    metrics: dict[str, float]
    n_samples: int
    fit_sample_size: int
    score_sample_size: int
    silhouette_sample_size: int
    final_fit: str
    random_state: int
    features: list[str]
    n_features_out: int
    library_versions: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def sizes(self) -> np.ndarray:
        """Candidates per segment, indexed by cluster."""
        return np.bincount(self.labels, minlength=self.k)


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries an artifact depends on."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - optional at runtime
            versions[name] = "missing"
    return versions


def thread_limit(n_threads: int | None, *, n_rows: int) -> AbstractContextManager[Any]:
    """A threadpoolctl limit: `n_threads` if given, else one thread below `SMALL_DATA_ROWS`.

    Below ~200k rows a second thread saves little, and when the machine is busy (web workers, a
    second Celery process) OpenMP threads waiting on each other at every K-means iteration made
    a 3,000-row training 8× slower here. None above the threshold leaves the library defaults.
    """
    if n_threads is None and n_rows < SMALL_DATA_ROWS:
        n_threads = 1
    return threadpool_limits(limits=n_threads) if n_threads else nullcontext()


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
) -> KSearch:
    """Fit K-means for every k on a uniform sample of X and score it; the best silhouette wins.

    Samples are nested and drawn once, so every k is judged on the same candidates: K-means and
    inertia use the fit sample, Davies–Bouldin and Calinski–Harabasz a score sample inside it,
    silhouette a fixed-size sample inside that. Ties go to the smaller k. `n_jobs` values of k are
    fitted at once (threads, one BLAS/OpenMP thread each; default: one per core).
    """
    n = X.shape[0]
    k_values = sorted({int(k) for k in k_values if 2 <= int(k) < n})
    if not k_values:
        raise ValueError(f"no k to try: need 2 <= k < n_samples ({n})")
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(k_values)))
    rng = np.random.default_rng(random_state)
    fit_sample = (
        np.sort(rng.choice(n, size=fit_sample_size, replace=False)) if n > fit_sample_size else np.arange(n)
    )
    order = rng.permutation(len(fit_sample))
    score_rows = np.sort(order[: min(score_sample_size, len(order))])
    silhouette_rows = np.sort(order[: min(silhouette_sample_size, len(order))])
    seed_rows = np.sort(order[: min(seed_sample_size, len(order))])
    if restarts > 1 and len(seed_rows) <= SMALL_SEARCH_ROWS:
        restarts = max(restarts, SMALL_SEARCH_RESTARTS)
    # Dense for the search: on a 100k sample dense K-means (BLAS) beats sparse, and the scores need it.
    X_fit = _dense_rows(X, fit_sample)
    X_score = X_fit[score_rows]
    base = kmeans if kmeans is not None else KMeans(n_init="auto", copy_x=False)

    def fit_one(k: int) -> tuple[dict[str, Any], KMeans]:
        # Each k on one OpenMP/BLAS thread, k values side by side: the search is many short fits
        # on <= 100k rows, where threads synchronising at every K-means iteration made it 3x
        # *slower* on this 2-core machine while other work ran (10.5 s vs 2.9 s at 1M candidates).
        # The limit is set in the worker thread: OpenMP's thread count is per calling thread.
        with threadpool_limits(limits=1):
            started = time.perf_counter()
            # The search only ranks k values, so it stops at a 10x looser tolerance: past the true
            # number of segments K-means otherwise crawls (k=12: 50 iterations instead of 13 at
            # 1M candidates). The final fit on every row converges at the factory's tolerance.
            model = clone(base).set_params(n_clusters=k, random_state=random_state, tol=SEARCH_TOL)
            # One k-means++ start can stall in a poor local optimum (two segments merged, one
            # split), which then skews the silhouette curve. Several cheap starts on a small
            # sample pick the best centres; the fit sample refines them in a few passes.
            if restarts > 1 and len(seed_rows) < len(fit_sample):
                seed = clone(model).set_params(n_init=restarts).fit(X_fit[seed_rows])
                model.set_params(init=seed.cluster_centers_, n_init=1)
            elif restarts > 1:
                model.set_params(n_init=restarts)
            model.fit(X_fit)
            labels = model.labels_
            row = {
                "k": k,
                "silhouette": _silhouette(distances, labels[silhouette_rows]),
                "davies_bouldin": _score(davies_bouldin_score, X_score, labels[score_rows]),
                "calinski_harabasz": _score(calinski_harabasz_score, X_score, labels[score_rows]),
                "inertia": float(model.inertia_),
                "n_iter": int(model.n_iter_),
                # Fewer distinct clusters than k (duplicate points): never chosen if anything else is.
                "degenerate": bool(len(np.unique(labels)) < k),
                "seconds": round(time.perf_counter() - started, 4),
            }
        return row, model

    with threadpool_limits(limits=1), warnings.catch_warnings():
        # One distance matrix for all k: the k-independent part of silhouette, computed once.
        distances = pairwise_distances(X_fit[silhouette_rows])
        # Duplicate points make K-means warn; such a k is recorded as degenerate instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
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
    ordered = [results[k] for k in k_values]
    return KSearch(
        results=ordered,
        models=models,
        best_k=_best_k(ordered),
        fit_sample=fit_sample,
        score_sample=fit_sample[score_rows],
        silhouette_sample=fit_sample[silhouette_rows],
        silhouette_distances=distances,
    )


def train_segmenter(
    frame: pd.DataFrame,
    *,
    k_min: int = DEFAULT_K_MIN,
    k_max: int = DEFAULT_K_MAX,
    random_state: int = 0,
    fit_sample_size: int = DEFAULT_FIT_SAMPLE_SIZE,
    score_sample_size: int = DEFAULT_SCORE_SAMPLE_SIZE,
    silhouette_sample_size: int = DEFAULT_SILHOUETTE_SAMPLE_SIZE,
    final_fit: Literal["all", "sample"] = "all",
    weights: dict[str, float] | None = None,
    max_skills: int | None = DEFAULT_MAX_SKILLS,
    n_threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> TrainingResult:
    """Fit the segmentation pipeline on a candidate frame (see `features.candidate_frame`).

    `final_fit="all"` refits the chosen k on every row (warm-started from the sample fit);
    `"sample"` keeps the sample model and only assigns the rest. `n_threads` caps BLAS/OpenMP
    threads: pass 1 inside a multi-process Celery worker so processes do not oversubscribe the
    cores; None lets large trainings use every core and runs small ones on one (`thread_limit`).
    """
    if final_fit not in ("all", "sample"):
        raise ValueError(f"final_fit must be 'all' or 'sample', got {final_fit!r}")
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"need 2 <= k_min <= k_max, got {k_min}..{k_max}")
    missing = [c for c in MODEL_INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks model input columns: {', '.join(missing)}")
    n = len(frame)
    if n < k_min + 1:
        raise ValueError(f"need more than {k_min} candidates to segment, got {n}")
    report = progress or (lambda stage, percent: None)
    timings: dict[str, float] = {}
    with thread_limit(n_threads, n_rows=n):
        started = t = time.perf_counter()
        report("features", 0.0)
        pipeline = build_segmenter(k_min, random_state, weights=weights, max_skills=max_skills)
        # pipeline[:-1] shares its steps with `pipeline`, so fitting it fits the real pipeline.
        X = pipeline[:-1].fit_transform(frame)
        timings["features"] = time.perf_counter() - t
        report("features", 10.0)

        t = time.perf_counter()
        search = choose_k(
            X,
            k_values=range(k_min, k_max + 1),
            fit_sample_size=fit_sample_size,
            score_sample_size=score_sample_size,
            silhouette_sample_size=silhouette_sample_size,
            random_state=random_state,
            kmeans=pipeline[-1],
            n_jobs=n_threads,
            progress=lambda _stage, fraction: report("k_search", 10.0 + 70.0 * fraction),
        )
        timings["k_search"] = time.perf_counter() - t
        k = search.best_k
        sample_model = search.models[k]

        t = time.perf_counter()
        report("final_fit", 80.0)
        if final_fit == "all" and len(search.fit_sample) < n:
            final = clone(pipeline[-1]).set_params(n_clusters=k, init=sample_model.cluster_centers_, n_init=1)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                final.fit(X)
            for warning in caught:
                logger.warning("final K-means fit: %s", warning.message)
            labels = final.labels_
        else:
            final = sample_model
            labels = final.predict(X) if len(search.fit_sample) < n else final.labels_
        pipeline.steps[-1] = (pipeline.steps[-1][0], final)
        timings["final_fit"] = time.perf_counter() - t

        t = time.perf_counter()
        report("scoring", 95.0)
        metrics = _final_metrics(X, labels, search, final, refit=final is not sample_model)
        search.silhouette_distances = np.empty((0, 0))
        timings["scoring"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    report("done", 100.0)
    result = TrainingResult(
        pipeline=pipeline,
        k=k,
        labels=labels.astype(np.int32, copy=False),
        k_search=search.results,
        metrics=metrics,
        n_samples=n,
        fit_sample_size=len(search.fit_sample),
        score_sample_size=len(search.score_sample),
        silhouette_sample_size=len(search.silhouette_sample),
        final_fit=final_fit,
        random_state=random_state,
        features=list(MODEL_INPUT_COLUMNS),
        n_features_out=int(X.shape[1]),
        library_versions=library_versions(),
        timings={name: round(seconds, 4) for name, seconds in timings.items()},
    )
    logger.info(
        "segmentation trained: n=%d k=%d silhouette=%.4f in %.2fs",
        n,
        k,
        metrics["silhouette"],
        timings["total"],
    )
    return result


# ---- helpers ------------------------------------------------------------------------------------
def _dense_rows(X: Any, rows: np.ndarray) -> np.ndarray:
    part = X[rows]
    return np.ascontiguousarray(part.toarray() if sp.issparse(part) else part)


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix; equals sklearn's `silhouette_score`.

    sklearn reduces the matrix row by row (~70 ms per k at 5k rows); summing distances per cluster
    with one matrix product does the same arithmetic in a few milliseconds, which matters when
    eleven values of k are scored.
    """
    clusters, codes = np.unique(labels, return_inverse=True)
    n = len(labels)
    if not 2 <= len(clusters) <= n - 1:
        return float("nan")
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
    return float(scores.mean())


def _score(func: Callable[[np.ndarray, np.ndarray], float], X: np.ndarray, labels: np.ndarray) -> float:
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(func(X, labels))


def _best_k(results: list[dict[str, Any]]) -> int:
    usable = [r for r in results if not r["degenerate"] and np.isfinite(r["silhouette"])]
    if not usable:
        usable = [r for r in results if np.isfinite(r["silhouette"])] or results
        logger.warning("no well-formed k in the search; choosing among degenerate fits")
    # max() keeps the first maximum, and results are in ascending k: ties go to the smaller k.
    return int(max(usable, key=lambda r: r["silhouette"] if np.isfinite(r["silhouette"]) else -np.inf)["k"])


def _final_metrics(
    X: np.ndarray, labels: np.ndarray, search: KSearch, final: KMeans, *, refit: bool
) -> dict[str, float]:
    """The chosen model's quality, scored on the same samples the k search used."""
    X_score = _dense_rows(X, search.score_sample)
    score_labels = labels[search.score_sample]
    if refit:
        inertia = float(final.inertia_)
    elif len(search.fit_sample) < X.shape[0]:
        inertia = float(-final.score(X))
    else:
        inertia = float(final.inertia_)
    return {
        "silhouette": _silhouette(search.silhouette_distances, labels[search.silhouette_sample]),
        "davies_bouldin": _score(davies_bouldin_score, X_score, score_labels),
        "calinski_harabasz": _score(calinski_harabasz_score, X_score, score_labels),
        # On every row, not the sample: the final model's own objective.
        "inertia": inertia,
    }
