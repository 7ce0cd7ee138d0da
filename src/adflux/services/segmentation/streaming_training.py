"""Training on a base too large for memory: fit on a hash sample, then assign everyone chunk by chunk.

`training.train_segmentation` hands a training here from `segmentation_streaming_rows` candidates
on (PostgreSQL). Two passes over one exported snapshot (`segmentation_chunks`):

1. the candidates whose id hash falls in the sample (about `segmentation_stream_sample_rows`) are
   read; the feature encoder, the k search and the final K-means are fitted on them; profiles, the
   PCA picture, the drift reference, persona ARI and stability are measured on them;
2. if the version is activated, every candidate is read in block-range chunks (two read ahead),
   predicted, and its assignment written by one binary COPY fed chunk by chunk from a bounded queue
   (`assignment_stream`); segment sizes count every candidate.

Memory depends on the sample and the chunk size, not on the number of candidates. Everything is
written in one transaction: a failure leaves the previous version active and no row of the new one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import SegmentationModel
from adflux.models.base import utcnow
from adflux.services import audit
from adflux.services.errors import ValidationFailed
from adflux.services.segmentation import evaluation
from adflux.services.segmentation.activation import ActivationDecision, decide_activation, make_active
from adflux.services.segmentation.drift import drift_at_training, record_drift_at_training
from adflux.services.segmentation.trained_version import artifact_metadata, complete_model, new_model
from adflux.services.segmentation.versions import active_model, model_snapshot, model_store
from adflux.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from adflux.ml.training import TrainingResult
    from adflux.services.candidate_read import CandidateColumns
    from adflux.services.segmentation_chunks import Heap

ml_drift = lazy_module("adflux.ml.drift")
ml_features = lazy_module("adflux.ml.features")
ml_profiles = lazy_module("adflux.ml.profiles")
ml_registry = lazy_module("adflux.ml.registry")
ml_training = lazy_module("adflux.ml.training")
chunks = lazy_module("adflux.services.segmentation_chunks")
assignment_stream = lazy_module("adflux.services.assignment_stream")
data = lazy_module("adflux.services.segmentation_data")

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
PCA_POINTS = 2_000  # as training.PCA_POINTS
MIN_CANDIDATES = 20


def should_stream(settings: Settings) -> bool:
    """Whether this base is trained by streaming (PostgreSQL, at least the configured candidates)."""
    threshold = settings.segmentation_streaming_rows
    if threshold <= 0 or not data.is_postgresql():
        return False
    return bool(estimated_candidates() >= threshold)


def estimated_candidates() -> int:
    """The planner's count of candidates (exact after ANALYZE; counted when never analysed)."""
    return int(chunks.estimated_candidates(db.engine))


def train_streaming(
    *,
    settings: Settings,
    k_min: int,
    k_max: int,
    force: bool,
    seed: int,
    report: Progress,
    n_threads: int | None,
) -> SegmentationModel:
    """Train, register and (if good enough) activate a version in two passes; the caller holds the lock."""
    clock = _Clock()
    report("reading", 0.0)
    previous = active_model()
    previous_reference = dict(previous.reference_profile or {}) if previous is not None else {}
    estimate = estimated_candidates()
    with (
        chunks.snapshot_heap(db.engine, estimate) as heap,
        ThreadPoolExecutor(1, thread_name_prefix="eval") as pool,
    ):
        cut = chunks.sample_cut(heap.rows, settings.segmentation_stream_sample_rows)
        evaluation_reads = pool.submit(_evaluation_reads, heap, cut, previous.id if previous else None)
        window_read = pool.submit(chunks.read_window, heap)
        sample = chunks.read_sample(heap, cut)
        _check_size(len(sample), k_max)
        clock.lap("read_sample")
        trained_at = utcnow()
        frame = ml_features.candidate_frame(sample.table, reference_year=trained_at.year)
        result = ml_training.train_segmenter(
            frame,
            k_min=k_min,
            k_max=k_max,
            random_state=seed,
            n_threads=n_threads,
            progress=lambda stage, percent: report(stage, 5.0 + 0.55 * percent),
        )
        clock.lap("train")
        # Every read of the snapshot ends here: pass 2 locks what they read.
        evaluation_reads.result()
        window = window_read.result()
    # The last report until "done": from here on everything is one transaction.
    report("assigning", 60.0)
    fitted = _Fitted(settings, heap, window, sample, frame, result, trained_at, previous, seed, force)
    model = _store(fitted, previous_reference, evaluation_reads, cut, clock)
    clock.lap("commit")
    report("done", 100.0)
    logger.info(
        "segmentation v%d (streamed): k=%d silhouette=%.4f persona_ari=%s, %s (%s)",
        model.version,
        model.k,
        model.silhouette or float("nan"),
        model.persona_ari,
        model.status,
        clock.timings,
    )
    return model


@dataclass(frozen=True)
class _Fitted:
    """What pass 1 read and fitted."""

    settings: Settings
    heap: Heap
    window: dict[str, Any]  # `chunks.read_window`
    sample: CandidateColumns
    frame: pd.DataFrame
    result: TrainingResult
    trained_at: datetime
    previous: SegmentationModel | None
    seed: int
    force: bool

    @property
    def reference_year(self) -> int:
        return int(self.trained_at.year)


def _check_size(rows: int, k_max: int) -> None:
    needed = max(MIN_CANDIDATES, k_max + 1)
    if rows < needed:
        raise ValidationFailed(
            _("Segmentation needs at least %(needed)s candidates, not %(value)s", needed=needed, value=rows)
        )


def _evaluation_reads(
    heap: Heap, cut: int, previous_id: int | None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """The sampled candidates' personas and their assignments under the active version."""
    personas = chunks.read_pairs(
        heap,
        "SELECT candidate_id, persona_index FROM candidate_personas"
        f" WHERE {chunks.sample_filter('candidate_id', cut)}",
    )
    old = None
    if previous_id is not None:
        old = chunks.read_pairs(
            heap,
            "SELECT candidate_id, segment_id FROM candidate_segments"
            f" WHERE model_id = {int(previous_id)} AND {chunks.sample_filter('candidate_id', cut)}",
        )
    return personas, old


def _store(
    fitted: _Fitted,
    previous_reference: dict[str, Any],
    evaluation_reads: Future[Any],
    cut: int,
    clock: _Clock,
) -> SegmentationModel:
    """Register, describe, stream the assignments and save, in one transaction; a failure leaves nothing."""
    store = model_store()
    stored = None
    try:
        model, decision = _register(fitted)
        clock.lap("register")
        described = _describe(fitted, previous_reference, evaluation_reads)
        clock.lap("describe")
        streamed = _stream(fitted, model, clock) if decision.activate else None
        sizes = streamed["sizes"] if streamed else fitted.result.sizes
        _count_everyone(described, model, sizes, streamed)
        metadata = artifact_metadata(
            fitted.result,
            model.version,
            fitted.reference_year,
            fitted.seed,
            model.data_window,
            fitted.trained_at,
        )
        artifact = ml_registry.ModelArtifact(
            pipeline=fitted.result.pipeline, metadata=metadata, pca=described["pca"]
        )
        stored = store.save(model.version, artifact)
        clock.lap("save_artifact")
        _complete(fitted, model, decision, described, stored, streamed, cut, clock)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored is not None:
            store.delete(stored.uri)
        raise
    return model


def _register(fitted: _Fitted) -> tuple[SegmentationModel, ActivationDecision]:
    version = int(db.session.scalar(select(func.coalesce(func.max(SegmentationModel.version), 0))) or 0) + 1
    model = new_model(fitted.result, version, fitted.window, fitted.trained_at, fitted.reference_year)
    model.training_size = fitted.window["candidates"]
    db.session.add(model)
    db.session.flush()
    fixed = evaluation.fixed_sample_scores(fitted.sample, fitted.frame, fitted.result, fitted.previous)
    fixed["chosen_by"] = "smallest hash of candidate id, within the training sample"
    model.metrics = {**model.metrics, "evaluation_sample": fixed}
    decision = decide_activation(
        new_silhouette=fixed["silhouette"],
        active=fitted.previous,
        tolerance=fitted.settings.segmentation_silhouette_tolerance,
        force=fitted.force,
        active_silhouette=fixed.get("active_silhouette"),
    )
    model.notes = f"{'activated' if decision.activate else 'not activated'}: {decision.reason}"
    if decision.activate:
        # Retires the active version and marks this one; its assignments are streamed afterwards.
        make_active(model, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    return model, decision


def _describe(
    fitted: _Fitted, previous_reference: dict[str, Any], evaluation_reads: Future[Any]
) -> dict[str, Any]:
    """Profiles, PCA, drift reference, drift and evaluation, all on the sample (before the write
    locks candidate_segments: the evaluation reads it)."""
    frame, result = fitted.frame, fitted.result
    profiles = ml_profiles.profile_segments(frame, result.labels, k=result.k)
    rows = ml_profiles.sample_indices(len(frame), random_state=fitted.seed)
    pca = ml_profiles.fit_pca(result.pipeline, frame.iloc[rows], random_state=fitted.seed)
    centroids = ml_profiles.pca_centroids(result.pipeline, pca)
    for profile in profiles:
        profile.pca_x, profile.pca_y = (float(v) for v in centroids[profile.cluster_index])
    picture = {
        "explained_variance_ratio": [round(float(v), 6) for v in pca.explained_variance_ratio_],
        "sample_size": len(rows),
        "points": ml_profiles.pca_projection(result.pipeline, pca, frame.iloc[rows[:PCA_POINTS]]),
    }
    return {
        "profiles": profiles,
        "pca": pca,
        "picture": picture,
        "reference": ml_drift.reference_profile(frame, result.labels, k=result.k),
        "drift": drift_at_training(previous_reference, frame, fitted.previous),
        "evaluation": evaluation.evaluate(fitted.sample.ids, result, evaluation_reads, fitted.previous),
    }


def _stream(fitted: _Fitted, model: SegmentationModel, clock: _Clock) -> dict[str, Any]:
    """Pass 2: every candidate read, predicted and written, chunk by chunk (`assignment_stream`)."""
    k = fitted.result.k
    lookup = np.full(k, -1, dtype=np.int64)
    for segment in model.segments:
        lookup[segment.cluster_index] = segment.id
    sizes = np.zeros(k, dtype=np.int64)
    busy = [0.0]

    def label(chunk: CandidateColumns) -> np.ndarray:
        started = time.perf_counter()
        frame = ml_features.candidate_frame(chunk.table, reference_year=fitted.reference_year)
        labels = np.asarray(fitted.result.pipeline.predict(frame), dtype=np.int64)
        sizes[:] += np.bincount(labels, minlength=k)
        busy[0] += time.perf_counter() - started
        return np.asarray(lookup[labels])

    totals = assignment_stream.stream_assignments(
        chunks.session_connection(db.session),
        model.id,
        label,
        chunk_rows=fitted.settings.segmentation_stream_chunk_rows,
    )
    clock.lap("stream")
    return {
        "sizes": sizes,
        "rows": totals.rows,
        "chunks": totals.chunks,
        "planned_chunks": totals.planned_chunks,
        "chunk_rows": fitted.settings.segmentation_stream_chunk_rows,
        "largest_chunk": totals.largest_chunk,
        "predict_seconds": round(busy[0], 3),
        "write_mode": totals.mode,
        "write_seconds": totals.timings,  # copy: read, label, COPY; keys: key, index, attach, analyze
    }


def _count_everyone(
    described: dict[str, Any],
    model: SegmentationModel,
    sizes: np.ndarray,
    streamed: dict[str, Any] | None,
) -> None:
    """Segment sizes and shares over every candidate streamed (over the sample when not streamed)."""
    total = max(int(sizes.sum()), 1)
    for profile in described["profiles"]:
        profile.size = int(sizes[profile.cluster_index])
        profile.share = float(sizes[profile.cluster_index] / total)
    described["reference"]["segments"] = [round(float(size / total), 8) for size in sizes]
    if streamed is not None:
        model.training_size = streamed["rows"]
        model.data_window = {**model.data_window, "candidates": streamed["rows"]}


def _complete(
    fitted: _Fitted,
    model: SegmentationModel,
    decision: ActivationDecision,
    described: dict[str, Any],
    stored: Any,
    streamed: dict[str, Any] | None,
    cut: int,
    clock: _Clock,
) -> None:
    complete_model(
        model,
        profiles=described["profiles"],
        stored=stored,
        pca=described["picture"],
        reference=described["reference"],
        evaluation=described["evaluation"],
        drift_at_training=described["drift"],
        result=fitted.result,
    )
    record_drift_at_training(fitted.previous, described["drift"], trained_at=fitted.trained_at)
    audit.record(
        "segmentation.train",
        entity_type="segmentation_model",
        entity_id=model.id,
        after={**(model_snapshot(model) or {}), "activated": decision.activate, "reason": decision.reason},
    )
    streaming = {
        "sample_rows": len(fitted.sample),
        "sample_buckets": f"{cut}/{chunks.HASH_BUCKETS}",
        "candidates": fitted.window["candidates"],
        **({key: value for key, value in streamed.items() if key != "sizes"} if streamed else {}),
    }
    model.metrics = {
        **model.metrics,
        "streaming": streaming,
        "timings": {**fitted.result.timings, **clock.timings},
        "cpu_seconds": clock.cpu,
    }


class _Clock:
    """Named laps (wall and CPU seconds of this process), kept with the model."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last, self._last_cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        now, now_cpu = time.perf_counter(), time.process_time()
        self.timings[name] = round(now - self._last, 4)
        self.cpu[name] = round(now_cpu - self._last_cpu, 4)
        self._last, self._last_cpu = now, now_cpu
