"""Training: transform once, choose k on a sample by silhouette, fit the final model, assign everyone.

The k search (`k_search.choose_k`) ranks every k on samples; only the chosen k is then fitted on
all rows, warm-started from the sample's centres so it converges in a few passes, and scored on
the samples the search used.
"""

from __future__ import annotations

import logging
import platform
import time
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from adflux.ml.features import MODEL_INPUT_COLUMNS
from adflux.ml.k_search import (
    DEFAULT_FIT_SAMPLE_SIZE,
    DEFAULT_K_MAX,
    DEFAULT_K_MIN,
    DEFAULT_SCORE_SAMPLE_SIZE,
    DEFAULT_SILHOUETTE_SAMPLE_SIZE,
    KSearch,
    ProgressCallback,
    choose_k,
)
from adflux.ml.pipeline import DEFAULT_MAX_SKILLS, build_segmenter

logger = logging.getLogger(__name__)

SMALL_DATA_ROWS = 200_000
LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "pyarrow", "skops", "threadpoolctl")


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
    k_selection: dict[str, Any] = field(default_factory=dict)  # how k was chosen (`k_search._best_k`)

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


@dataclass
class PreparedFeatures:
    """The feature steps of `build_segmenter` fitted on one frame, and the matrix they made of it.

    Fitted ahead of the training by the thread that read the candidates (`prepare_features`),
    while the process is still importing; `train_segmenter` takes them when it would fit the same
    steps on the same frame (`fits`), and fits them itself otherwise.
    """

    frame: pd.DataFrame
    steps: list[tuple[str, Any]]
    X: Any

    def fits(self, frame: pd.DataFrame, steps: list[tuple[str, Any]]) -> bool:
        """Whether these are `steps` (unfitted, same parameters) fitted on this very frame."""
        if frame is not self.frame or len(steps) != len(self.steps):
            return False
        return all(
            name == own_name and type(step) is type(own) and step.get_params() == own.get_params()
            for (name, step), (own_name, own) in zip(steps, self.steps, strict=True)
        )


def prepare_features(
    frame: pd.DataFrame,
    *,
    weights: dict[str, float] | None = None,
    max_skills: int | None = DEFAULT_MAX_SKILLS,
) -> PreparedFeatures:
    """Fit `build_segmenter`'s feature steps on `frame` (the same fit `train_segmenter` makes)."""
    features = build_segmenter(DEFAULT_K_MIN, weights=weights, max_skills=max_skills)[:-1]
    X = features.fit_transform(frame)
    return PreparedFeatures(frame=frame, steps=list(features.steps), X=X)


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
    prepared: PreparedFeatures | None = None,
) -> TrainingResult:
    """Fit the segmentation pipeline on a candidate frame (see `features.candidate_frame`).

    `final_fit="all"` refits the chosen k on every row (warm-started from the sample fit);
    `"sample"` keeps the sample model and only assigns the rest. `n_threads` caps BLAS/OpenMP
    threads: pass 1 inside a multi-process Celery worker so processes do not oversubscribe the
    cores; None lets large trainings use every core and runs small ones on one (`thread_limit`).
    `prepared`: the feature steps already fitted on this frame (`prepare_features`), taken when
    they are the steps this training would fit.
    """
    _check_training_input(frame, k_min=k_min, k_max=k_max, final_fit=final_fit)
    stages = _Stages(progress)
    with stages.timed("total"), thread_limit(n_threads, n_rows=len(frame)):
        with stages.timed("features", percent=0.0):
            pipeline = build_segmenter(k_min, random_state, weights=weights, max_skills=max_skills)
            if prepared is not None and prepared.fits(frame, pipeline.steps[:-1]):
                pipeline.steps[:-1] = prepared.steps
                X = prepared.X
            else:
                # pipeline[:-1] shares its steps with `pipeline`, so fitting it fits the real pipeline.
                X = pipeline[:-1].fit_transform(frame)
        stages.report("features", 10.0)
        with stages.timed("k_search"):
            search = choose_k(
                X,
                k_values=range(k_min, k_max + 1),
                fit_sample_size=fit_sample_size,
                score_sample_size=score_sample_size,
                silhouette_sample_size=silhouette_sample_size,
                random_state=random_state,
                kmeans=pipeline[-1],
                n_jobs=n_threads,
                progress=lambda _stage, fraction: stages.report("k_search", 10.0 + 70.0 * fraction),
            )
        with stages.timed("final_fit", percent=80.0):
            final, labels = _final_model(pipeline[-1], search, X, final_fit=final_fit)
            pipeline.steps[-1] = (pipeline.steps[-1][0], final)
        with stages.timed("scoring", percent=95.0):
            metrics = _final_metrics(X, labels, search, final)
            search.silhouette_distances = np.empty((0, 0))  # up to ~100 MB, no longer needed
    stages.report("done", 100.0)
    result = _training_result(
        pipeline, X, labels, search, metrics, final_fit=final_fit, random_state=random_state, stages=stages
    )
    logger.info(
        "segmentation trained: n=%d k=%d silhouette=%.4f in %.2fs",
        result.n_samples,
        result.k,
        metrics["silhouette"],
        stages.timings["total"],
    )
    return result


# ---- helpers ------------------------------------------------------------------------------------
def _check_training_input(frame: pd.DataFrame, *, k_min: int, k_max: int, final_fit: str) -> None:
    """Refuse arguments `train_segmenter` cannot work with, before any work is done."""
    if final_fit not in ("all", "sample"):
        raise ValueError(f"final_fit must be 'all' or 'sample', got {final_fit!r}")
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"need 2 <= k_min <= k_max, got {k_min}..{k_max}")
    missing = [c for c in MODEL_INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks model input columns: {', '.join(missing)}")
    if len(frame) < k_min + 1:
        raise ValueError(f"need more than {k_min} candidates to segment, got {len(frame)}")


class _Stages:
    """A training's progress reports and the seconds each of its stages took."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.report: ProgressCallback = progress or (lambda stage, percent: None)
        self.timings: dict[str, float] = {}

    @contextmanager
    def timed(self, name: str, *, percent: float | None = None) -> Iterator[None]:
        """Time the block as stage `name`, first reporting `percent` done if given."""
        started = time.perf_counter()
        if percent is not None:
            self.report(name, percent)
        yield
        self.timings[name] = time.perf_counter() - started


def _final_model(
    kmeans: KMeans, search: KSearch, X: Any, *, final_fit: Literal["all", "sample"]
) -> tuple[KMeans, np.ndarray]:
    """The model to keep and every row's label: the chosen k refitted on all rows, or its sample fit."""
    sample_model = search.models[search.best_k]
    sampled = len(search.fit_sample) < X.shape[0]
    if final_fit == "all" and sampled:
        final = clone(kmeans).set_params(
            n_clusters=search.best_k, init=sample_model.cluster_centers_, n_init=1
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            final.fit(X)
        for warning in caught:
            logger.warning("final K-means fit: %s", warning.message)
        return final, final.labels_
    return sample_model, sample_model.predict(X) if sampled else sample_model.labels_


def _final_metrics(X: Any, labels: np.ndarray, search: KSearch, final: KMeans) -> dict[str, float]:
    """The chosen model's quality, scored on the same samples the k search used.

    Inertia is on every row, not the sample: the final model's own objective (a model kept from
    the search recorded it on its fit sample only).
    """
    if final is search.models[search.best_k] and len(search.fit_sample) < X.shape[0]:
        inertia = float(-final.score(X))
    else:
        inertia = float(final.inertia_)
    return {**search.scores(labels), "inertia": inertia}


def _training_result(
    pipeline: Pipeline,
    X: Any,
    labels: np.ndarray,
    search: KSearch,
    metrics: dict[str, float],
    *,
    final_fit: str,
    random_state: int,
    stages: _Stages,
) -> TrainingResult:
    """Everything a training records, gathered from its stages."""
    return TrainingResult(
        pipeline=pipeline,
        k=search.best_k,
        labels=labels.astype(np.int32, copy=False),
        k_search=search.results,
        metrics=metrics,
        n_samples=int(X.shape[0]),
        fit_sample_size=len(search.fit_sample),
        score_sample_size=len(search.score_sample),
        silhouette_sample_size=len(search.silhouette_sample),
        final_fit=final_fit,
        random_state=random_state,
        features=list(MODEL_INPUT_COLUMNS),
        n_features_out=int(X.shape[1]),
        library_versions=library_versions(),
        timings={name: round(seconds, 4) for name, seconds in stages.timings.items()},
        k_selection=search.selection,
    )
