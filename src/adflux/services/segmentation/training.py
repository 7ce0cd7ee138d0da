"""Training a new version: read every candidate, fit, register, describe, save, and activate it if
it is good enough — one writer at a time, in one transaction.

The ML lives in `adflux.ml` (pure scikit-learn); this module moves data in and out in bulk
(`segmentation_data`), stores the artifact (`ml.registry`) and owns the transaction around the
new `SegmentationModel` and `Segment` rows and their assignments.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.constants import TASK_TRAIN_SEGMENTATION
from adflux.extensions import db
from adflux.models import SegmentationModel, TaskRun
from adflux.models.base import utcnow
from adflux.services import audit, task_runs
from adflux.services.errors import Conflict, ValidationFailed
from adflux.services.segmentation import evaluation, streaming_training
from adflux.services.segmentation.activation import ActivationDecision, decide_activation, make_active
from adflux.services.segmentation.drift import drift_at_training, record_drift_at_training
from adflux.services.segmentation.trained_version import artifact_metadata, complete_model, new_model
from adflux.services.segmentation.versions import active_model, model_snapshot, model_store, writers_lock
from adflux.settings import Settings, current_settings

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.decomposition import PCA

    from adflux.ml.profiles import SegmentProfile
    from adflux.ml.registry import ModelStore, StoredArtifact
    from adflux.ml.training import TrainingResult
    from adflux.services.candidate_read import CandidateColumns

# scikit-learn, pandas and pyarrow load on first use, not when the web app or the CLI starts:
# listing models and segments is a database query and must not pay ~2 s of imports.
ml_drift = lazy_module("adflux.ml.drift")
ml_profiles = lazy_module("adflux.ml.profiles")
ml_registry = lazy_module("adflux.ml.registry")
ml_training = lazy_module("adflux.ml.training")
data = lazy_module("adflux.services.segmentation_data")

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
# Points of the PCA picture kept with each version (a readable scatter, ~60 KB of JSON).
PCA_POINTS = 2_000
# Below this many candidates there is nothing worth segmenting.
MIN_CANDIDATES = 20
MAX_K = 50


def train_segmentation(
    *,
    k_min: int | None = None,
    k_max: int | None = None,
    force: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    n_threads: int | None = None,
) -> SegmentationModel:
    """Train a new model version on every candidate, register it, and activate it if it is good enough.

    k defaults to the configured range; the new version becomes active when its silhouette is at
    least the active one's minus the configured tolerance, or when `force` is set.
    """
    settings = current_settings()
    k_min, k_max = _k_range(k_min, k_max)
    report = progress or (lambda stage, percent: None)
    request = _Request(settings, k_min, k_max, force=force, seed=seed, report=report, n_threads=n_threads)
    with writers_lock() as acquired:
        if not acquired:
            raise Conflict(_("A segmentation training is already running"))
        if streaming_training.should_stream(settings):  # a base too large for memory: two passes
            return streaming_training.train_streaming(
                settings=settings,
                k_min=k_min,
                k_max=k_max,
                force=force,
                seed=seed,
                report=report,
                n_threads=n_threads,
            )
        return _train_locked(request)


def start_training(
    *, k_min: int | None = None, k_max: int | None = None, force: bool = False, seed: int = 0
) -> TaskRun:
    """Queue a training (queue: training) and return its TaskRun; inline without a broker."""
    k_min, k_max = _k_range(k_min, k_max)
    params = {"k_min": k_min, "k_max": k_max, "force": force, "seed": seed}
    run = task_runs.create_task_run(kind="segmentation.train", params=params)
    return task_runs.enqueue(TASK_TRAIN_SEGMENTATION, run, k_min, k_max, force, seed)


def _k_range(k_min: int | None, k_max: int | None) -> tuple[int, int]:
    settings = current_settings()
    k_min = settings.segmentation_k_min if k_min is None else k_min
    k_max = settings.segmentation_k_max if k_max is None else k_max
    if not 2 <= k_min <= k_max <= MAX_K:
        raise ValidationFailed(
            _(
                "k range must satisfy 2 <= k_min <= k_max <= %(max_k)s (got %(k_min)s..%(k_max)s)",
                max_k=MAX_K,
                k_min=k_min,
                k_max=k_max,
            )
        )
    return k_min, k_max


# ---- the steps of one training ------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """What was asked of one training."""

    settings: Settings
    k_min: int
    k_max: int
    force: bool
    seed: int
    report: Progress
    n_threads: int | None


@dataclass
class _Training:
    """What one training has read and fitted, shared by the steps that register and describe it."""

    request: _Request
    clock: _Clock
    previous: SegmentationModel | None
    previous_reference: dict[str, Any]
    candidates: CandidateColumns
    trained_at: datetime
    frame: pd.DataFrame
    result: TrainingResult
    background: ThreadPoolExecutor
    # The active version's score on the fixed evaluation sample, computed while this one trained,
    # or (`active_deferred`, --force) started after its fit and added once the assignments are written.
    active_scoring: Future[dict[str, Any]] | None = None
    active_deferred: bool = False

    @property
    def reference_year(self) -> int:
        return self.trained_at.year


class _Registered(NamedTuple):
    model: SegmentationModel
    decision: ActivationDecision
    window: dict[str, Any]
    copying: Future[None] | None  # the assignments still being written, if any


class _Description(NamedTuple):
    profiles: list[SegmentProfile]
    pca: PCA
    picture: dict[str, Any]
    reference: dict[str, Any]
    drift_at_training: dict[str, Any] | None
    evaluation: dict[str, Any]


def _train_locked(request: _Request) -> SegmentationModel:
    clock = _Clock()
    request.report("reading", 0.0)
    previous = active_model()
    previous_reference = dict(previous.reference_profile or {}) if previous is not None else {}
    # Helpers while the main thread reads and computes: reading what the evaluation needs and
    # loading the active version during the read and training, and writing the assignments
    # during profiling (PostgreSQL only; the database server does that work on the other core).
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="segmentation") as background:
        evaluation_data = evaluation.start_evaluation_reads(previous, background)
        window_read = _start_window_read(background)
        # The active version's score on the evaluation sample: loaded (skops, ~0.5-1 s of CPU)
        # and scored while this one reads and trains when the promotion waits for it; when it
        # cannot matter (--force) it is only recorded, so it runs after the fit, beside the
        # server's write of the assignments, instead of beside the CPU-bound read and k search
        # (1M forced retrain: 1.077 and 1.075 same-run, bench/README.md, fourteenth session).
        deferred = request.force
        active_loading = None if deferred else evaluation.start_active_load(previous, background)
        candidates = _read_candidates(request.k_max)
        clock.lap("read")
        trained_at = utcnow()
        store = model_store()
        if not deferred:
            active_scoring = evaluation.start_active_scoring(previous, candidates, background, active_loading)
        frame, result = _fit(request, candidates, trained_at.year, clock)
        if deferred:
            active_scoring = evaluation.start_active_scoring(previous, candidates, background)
        # The last report until "done": from here on everything is one transaction.
        request.report("registering", 82.0)
        training = _Training(
            request=request,
            clock=clock,
            previous=previous,
            previous_reference=previous_reference,
            candidates=candidates,
            trained_at=trained_at,
            frame=frame,
            result=result,
            background=background,
            active_scoring=active_scoring,
            active_deferred=deferred,
        )
        model = _store_version(training, store, evaluation_data, window_read)
    clock.lap("commit")
    request.report("done", 100.0)
    logger.info(
        "segmentation v%d: k=%d silhouette=%.4f persona_ari=%s, %s (%s)",
        model.version,
        model.k,
        model.silhouette or float("nan"),
        model.persona_ari,
        model.status,
        clock.timings,
    )
    return model


def _read_candidates(k_max: int) -> CandidateColumns:
    candidates = data.read_candidate_columns()
    needed = max(MIN_CANDIDATES, k_max + 1)
    if len(candidates) < needed:
        raise ValidationFailed(
            _(
                "Segmentation needs at least %(needed)s candidates, not %(value)s",
                needed=needed,
                value=len(candidates),
            )
        )
    return candidates


def _fit(
    request: _Request, candidates: CandidateColumns, reference_year: int, clock: _Clock
) -> tuple[pd.DataFrame, TrainingResult]:
    """The model's input frame and the fitted segmenter (k chosen in k_min..k_max)."""
    frame = candidates.frame(reference_year)
    clock.lap("frame")
    request.report("features", 5.0)
    result = ml_training.train_segmenter(
        frame,
        k_min=request.k_min,
        k_max=request.k_max,
        random_state=request.seed,
        n_threads=request.n_threads,
        progress=lambda stage, percent: request.report(stage, 5.0 + 0.75 * percent),
        prepared=candidates.take_prepared(reference_year),
    )
    clock.lap("train")
    return frame, result


def _store_version(
    training: _Training,
    store: ModelStore,
    evaluation_data: Future[Any] | None,
    window_read: Future[dict[str, Any]] | None,
) -> SegmentationModel:
    """Register, describe and save the new version in one transaction; a failure leaves nothing."""
    clock = training.clock
    stored = None
    try:
        registered = _register(training, window_read)
        model = registered.model
        # From here until the COPY is done the session's connection is busy: no database use
        # (and no progress reports: they commit, and this transaction must commit whole).
        description = _describe(training, evaluation_data)
        stored = _save_artifact(training, store, model.version, registered.window, description.pca)
        if registered.copying is not None:
            registered.copying.result()
        clock.lap("assignments_wait")
        if training.active_deferred and training.previous is not None:
            fixed = {
                **model.metrics["evaluation_sample"],
                **evaluation.active_scores(training.previous, training.candidates, training.active_scoring),
            }
            model.metrics = {**model.metrics, "evaluation_sample": fixed}
            clock.lap("active_scoring_wait")
        complete_model(
            model,
            profiles=description.profiles,
            stored=stored,
            pca=description.picture,
            reference=description.reference,
            evaluation=description.evaluation,
            drift_at_training=description.drift_at_training,
            result=training.result,
        )
        record_drift_at_training(
            training.previous, description.drift_at_training, trained_at=training.trained_at
        )
        audit.record(
            "segmentation.train",
            entity_type="segmentation_model",
            entity_id=model.id,
            after={
                **(model_snapshot(model) or {}),
                "activated": registered.decision.activate,
                "reason": registered.decision.reason,
            },
        )
        model.metrics = {
            **model.metrics,
            "timings": {**training.result.timings, **clock.timings},
            "cpu_seconds": clock.cpu,
        }
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored is not None:
            store.delete(stored.uri)  # no row points at it: do not leave an orphan artifact
        raise
    return model


def _register(training: _Training, window_read: Future[dict[str, Any]] | None) -> _Registered:
    """The new version's row and segments, the promotion decision, and (if promoted) its assignments."""
    version = int(db.session.scalar(select(func.coalesce(func.max(SegmentationModel.version), 0))) or 0) + 1
    window = window_read.result() if window_read is not None else data.candidate_window()
    model = new_model(training.result, version, window, training.trained_at, training.reference_year)
    db.session.add(model)
    db.session.flush()
    # Forced, or no active version: promoted whatever the scores, so the assignments start
    # writing now and the evaluation sample is scored while the server writes them.
    decided = training.request.force or training.previous is None
    decision = _decide(training, None) if decided else None
    copying = _start_assignments(training, model) if decided else None
    fixed = evaluation.fixed_sample_scores(
        training.candidates,
        training.frame,
        training.result,
        training.previous,
        training.active_scoring,
        with_active=not training.active_deferred,  # else added once the assignments are written
    )
    model.metrics = {**model.metrics, "evaluation_sample": fixed}
    if decision is None:
        decision = _decide(training, fixed)
        copying = _start_assignments(training, model) if decision.activate else None
    model.notes = f"{'activated' if decision.activate else 'not activated'}: {decision.reason}"
    training.clock.lap("register")
    return _Registered(model, decision, window, copying)


def _decide(training: _Training, fixed: dict[str, Any] | None) -> ActivationDecision:
    """The promotion decision; without the evaluation sample's scores only when they cannot matter."""
    return decide_activation(
        new_silhouette=fixed["silhouette"] if fixed else None,
        active=training.previous,
        tolerance=training.request.settings.segmentation_silhouette_tolerance,
        force=training.request.force,
        active_silhouette=fixed.get("active_silhouette") if fixed else None,
    )


def _start_assignments(training: _Training, model: SegmentationModel) -> Future[None] | None:
    """Make `model` active; its assignments are written in the background (the session is busy
    until the returned future is done)."""
    return make_active(model, training.candidates.ids, training.result.labels, background=training.background)


def _describe(training: _Training, evaluation_data: Future[Any] | None) -> _Description:
    """Segment profiles, the PCA picture, the drift reference and evaluation (no database use)."""
    frame, result, clock = training.frame, training.result, training.clock
    profiles = ml_profiles.profile_segments(frame, result.labels, k=result.k)
    clock.lap("profile")
    pca, picture = _pca(result, frame, profiles, training.request.seed)
    reference = ml_drift.reference_profile(frame, result.labels, k=result.k)
    drift = drift_at_training(training.previous_reference, frame, training.previous)
    clock.lap("pca_reference_drift")
    scores = evaluation.evaluate(training.candidates.ids, result, evaluation_data, training.previous)
    clock.lap("evaluate")
    return _Description(profiles, pca, picture, reference, drift, scores)


def _save_artifact(
    training: _Training, store: ModelStore, version: int, window: dict[str, Any], pca: PCA
) -> StoredArtifact:
    metadata = artifact_metadata(
        training.result, version, training.reference_year, training.request.seed, window, training.trained_at
    )
    stored = store.save(
        version, ml_registry.ModelArtifact(pipeline=training.result.pipeline, metadata=metadata, pca=pca)
    )
    training.clock.lap("save_artifact")
    return stored


def _start_window_read(background: ThreadPoolExecutor) -> Future[dict[str, Any]] | None:
    """On PostgreSQL, count the candidates and their creation window in the background."""
    if not data.is_postgresql():
        return None
    engine = db.engine
    return background.submit(lambda: data.candidate_window(engine=engine))


def _pca(
    result: TrainingResult, frame: pd.DataFrame, profiles: list[SegmentProfile], seed: int
) -> tuple[PCA, dict[str, Any]]:
    """Fit the PCA plane on a sample, place every segment's centroid and keep a plotting sample."""
    rows = ml_profiles.sample_indices(len(frame), random_state=seed)
    pca = ml_profiles.fit_pca(result.pipeline, frame.iloc[rows], random_state=seed)
    centroids = ml_profiles.pca_centroids(result.pipeline, pca)
    for profile in profiles:
        profile.pca_x, profile.pca_y = (float(v) for v in centroids[profile.cluster_index])
    shown = rows[: min(PCA_POINTS, len(rows))]
    return pca, {
        "explained_variance_ratio": [round(float(v), 6) for v in pca.explained_variance_ratio_],
        "sample_size": len(rows),
        "points": ml_profiles.pca_projection(result.pipeline, pca, frame.iloc[shown]),
    }


class _Clock:
    """Named laps of one training (wall seconds, and CPU seconds of this process), kept with the model."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last = time.perf_counter()
        self._last_cpu = time.process_time()

    def lap(self, name: str) -> None:
        now, now_cpu = time.perf_counter(), time.process_time()
        self.timings[name] = round(now - self._last, 4)
        self.cpu[name] = round(now_cpu - self._last_cpu, 4)
        self._last, self._last_cpu = now, now_cpu
