"""Audience segmentation as a service: train versions, activate (or roll back), assign, watch drift.

The ML lives in `adflux.ml` (pure scikit-learn); this module moves data in and out in bulk
(`segmentation_data`), stores artifacts (`ml.registry`) and owns the transactions around the
`SegmentationModel`, `Segment` and `CandidateSegment` rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from adflux._lazy import lazy_module
from adflux.constants import TASK_TRAIN_SEGMENTATION
from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment, SegmentationModel, TaskRun
from adflux.models.base import utcnow
from adflux.services import audit, task_runs
from adflux.services.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from adflux.services.locks import try_lock
from adflux.services.pagination import Page, paginate
from adflux.settings import Settings, current_settings

if TYPE_CHECKING:
    import pandas as pd

    from adflux.ml.profiles import SegmentProfile
    from adflux.ml.registry import ModelArtifact, ModelStore
    from adflux.ml.training import TrainingResult

# scikit-learn, pandas and pyarrow load on first use, not when the web app or the CLI starts:
# listing models and segments is a database query and must not pay ~2 s of imports.
ml_drift = lazy_module("adflux.ml.drift")
ml_profiles = lazy_module("adflux.ml.profiles")
ml_evaluation = lazy_module("adflux.ml.evaluation")
ml_features = lazy_module("adflux.ml.features")
ml_pipeline = lazy_module("adflux.ml.pipeline")
ml_registry = lazy_module("adflux.ml.registry")
ml_training = lazy_module("adflux.ml.training")
data = lazy_module("adflux.services.segmentation_data")

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
# Points of the PCA picture kept with each version (a readable scatter, ~60 KB of JSON).
PCA_POINTS = 2_000
# Below this many candidates there is nothing worth segmenting.
MIN_CANDIDATES = 20
# Assignments of this many most recent versions are kept; older retired ones are pruned.
KEEP_ASSIGNMENT_VERSIONS = 3
_TRAINING_LOCK_KEY = 1
MAX_K = 50


@dataclass(frozen=True)
class ActivationDecision:
    """Whether a new version replaces the active one, and why."""

    activate: bool
    reason: str


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
    with try_lock("training", _TRAINING_LOCK_KEY) as acquired:
        if not acquired:
            raise Conflict("A segmentation training is already running")
        return _train_locked(
            settings, k_min=k_min, k_max=k_max, force=force, seed=seed, report=report, n_threads=n_threads
        )


def start_training(
    *, k_min: int | None = None, k_max: int | None = None, force: bool = False, seed: int = 0
) -> TaskRun:
    """Queue a training (queue: training) and return its TaskRun; inline without a broker."""
    k_min, k_max = _k_range(k_min, k_max)
    params = {"k_min": k_min, "k_max": k_max, "force": force, "seed": seed}
    run = task_runs.create_task_run(kind="segmentation.train", params=params)
    return task_runs.enqueue(TASK_TRAIN_SEGMENTATION, run, k_min, k_max, force, seed)


def activate_model(*, version: int) -> SegmentationModel:
    """Make `version` the active model (roll back or forward): everyone is re-assigned in bulk."""
    # One writer of versions and assignments at a time: a training finishing meanwhile would
    # otherwise retire the version activated here.
    with try_lock("training", _TRAINING_LOCK_KEY) as acquired:
        if not acquired:
            raise Conflict("A segmentation training is running; activate when it has finished")
        return _activate_version(version)


def _activate_version(version: int) -> SegmentationModel:
    model = _model_by_version(version)
    if model.status == "active":
        raise Conflict(f"Model version {version} is already active")
    artifact = _load_artifact(model)
    candidates = data.read_candidate_columns()
    frame = ml_features.candidate_frame(candidates.table, reference_year=_reference_year(model))
    labels = artifact.pipeline.predict(frame) if len(frame) else np.empty(0, dtype=np.int64)
    before = _model_snapshot(active_model())
    _activate(model, candidates.ids, labels)
    audit.record(
        "segmentation.activate",
        entity_type="segmentation_model",
        entity_id=model.id,
        before=before,
        after=_model_snapshot(model),
    )
    db.session.commit()
    logger.info("segmentation model v%d activated (%d candidates assigned)", model.version, len(labels))
    return model


def assign_candidate(*, candidate_id: int) -> CandidateSegment:
    """The candidate's segment under the active model, predicting it now (one predict) if new."""
    model = _require_active_model()
    assignment = db.session.get(CandidateSegment, (model.id, candidate_id))
    if assignment is not None:
        return assignment
    if db.session.get(Candidate, candidate_id) is None:
        raise NotFound(f"Candidate {candidate_id} does not exist")
    artifact = _load_artifact(model)
    rows = data.read_candidate_rows([candidate_id])
    frame = ml_features.candidate_frame(rows.table, reference_year=_reference_year(model))
    cluster = int(artifact.pipeline.predict(frame)[0])
    segment = _segment_by_cluster(model, cluster)
    assignment = CandidateSegment(model_id=model.id, candidate_id=candidate_id, segment_id=segment.id)
    db.session.add(assignment)
    try:
        db.session.commit()
    except IntegrityError:
        # Two first requests for the same new candidate: the other one stored the same answer.
        db.session.rollback()
        stored = db.session.get(CandidateSegment, (model.id, candidate_id))
        if stored is None:
            raise
        return stored
    return assignment


def candidate_segment(*, candidate_id: int) -> dict[str, Any]:
    """What `GET /candidates/{id}/segment` shows: the model version and the candidate's segment."""
    assignment = assign_candidate(candidate_id=candidate_id)
    segment = db.session.get(Segment, assignment.segment_id)
    model = db.session.get(SegmentationModel, assignment.model_id)
    return {"candidate_id": candidate_id, "model_version": model.version, "segment": segment}  # type: ignore[union-attr]


def get_drift(*, refresh: bool = False) -> dict[str, Any]:
    """The active model's drift report: the last one recorded, or computed now if asked or missing."""
    model = _require_active_model()
    if model.drift and not refresh and model.drift.get("model_version") == model.version:
        return model.drift
    return check_drift()


def check_drift() -> dict[str, Any]:
    """Compare today's candidates with the active model's training data and record the report."""
    model = _require_active_model()
    if not model.reference_profile:
        raise Conflict(f"Model version {model.version} has no reference profile to compare with")
    candidates = data.read_candidate_columns()
    if len(candidates) == 0:
        raise Conflict("There are no candidates to compare with the training data")
    artifact = _load_artifact(model)
    frame = ml_features.candidate_frame(candidates.table, reference_year=_reference_year(model))
    labels = artifact.pipeline.predict(frame)
    report = ml_drift.compute_drift(model.reference_profile, frame, labels)
    report = _json_safe({**report, "model_version": model.version, "computed_at": utcnow().isoformat()})
    model.drift = report
    db.session.commit()
    logger.info("drift of v%d: score %.4f (%s)", model.version, report["score"], report["status"])
    return report


def active_model() -> SegmentationModel | None:
    """The active model version, if any."""
    return db.session.scalar(
        select(SegmentationModel)
        .where(SegmentationModel.status == "active")
        .order_by(SegmentationModel.version.desc())
    )


def list_models(*, page: int = 1, page_size: int = 20, status: str | None = None) -> Page[SegmentationModel]:
    """Model versions, newest first."""
    stmt = select(SegmentationModel)
    if status:
        stmt = stmt.where(SegmentationModel.status == status)
    return paginate(stmt.order_by(SegmentationModel.version.desc()), page=page, page_size=page_size)


def get_model(*, version: int) -> SegmentationModel:
    """One model version, or NotFound."""
    return _model_by_version(version)


def list_segments(*, version: int | None = None, page: int = 1, page_size: int = 50) -> Page[Segment]:
    """The segments of a version (default: the active one), largest first."""
    model = _model_by_version(version) if version is not None else _require_active_model()
    stmt = select(Segment).where(Segment.model_id == model.id).order_by(Segment.size.desc(), Segment.id)
    return paginate(stmt, page=page, page_size=page_size)


def get_segment(*, segment_id: int) -> Segment:
    """One segment, or NotFound."""
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"Segment {segment_id} does not exist")
    return segment


def segment_detail(*, segment_id: int, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    """A segment and one page of its members."""
    segment = get_segment(segment_id=segment_id)
    members = segment_members(segment_id=segment_id, page=page, page_size=page_size)
    return {"segment": segment, "members": members.as_dict()}


def segment_members(*, segment_id: int, page: int = 1, page_size: int = 20) -> Page[Candidate]:
    """The candidates assigned to a segment, by id."""
    segment = get_segment(segment_id=segment_id)
    stmt = (
        select(Candidate)
        .join(CandidateSegment, CandidateSegment.candidate_id == Candidate.id)
        .where(CandidateSegment.model_id == segment.model_id, CandidateSegment.segment_id == segment_id)
        .order_by(Candidate.id)
    )
    return paginate(stmt, page=page, page_size=page_size)


def pca_view(*, version: int) -> dict[str, Any]:
    """The PCA picture of a version: explained variance, segment centroids and sampled points."""
    model = _model_by_version(version)
    pca = (model.metrics or {}).get("pca") or {}
    return {
        "version": model.version,
        "explained_variance_ratio": pca.get("explained_variance_ratio", []),
        "centroids": [
            {
                "segment_id": s.id,
                "cluster_index": s.cluster_index,
                "name": s.name,
                "size": s.size,
                "x": s.pca_x,
                "y": s.pca_y,
            }
            for s in model.segments
        ],
        "points": pca.get("points", []),
    }


def prune_assignments(*, keep: int = KEEP_ASSIGNMENT_VERSIONS) -> int:
    """Delete the assignments of retired versions beyond the `keep` newest versions."""
    newest = db.session.scalars(
        select(SegmentationModel.id).order_by(SegmentationModel.version.desc()).limit(keep)
    ).all()
    stale = db.session.scalars(
        select(SegmentationModel.id).where(
            SegmentationModel.status != "active", SegmentationModel.id.not_in(newest or [0])
        )
    ).all()
    deleted = data.delete_assignments(model_ids=list(stale))
    db.session.commit()
    return deleted


def model_store() -> ModelStore:
    """The configured model store."""
    return ml_registry.open_model_store(current_settings().model_store_path)


def decide_activation(
    *, new_silhouette: float | None, active: SegmentationModel | None, tolerance: float, force: bool
) -> ActivationDecision:
    """The promotion rule: forced, first model, or silhouette within `tolerance` of the active one."""
    if force:
        return ActivationDecision(True, "forced")
    if active is None:
        return ActivationDecision(True, "no active model")
    if new_silhouette is None or not np.isfinite(new_silhouette):
        return ActivationDecision(False, "the new model has no silhouette")
    if active.silhouette is None or new_silhouette >= active.silhouette - tolerance:
        return ActivationDecision(
            True,
            f"silhouette {new_silhouette:.4f} >= active v{active.version} "
            f"{active.silhouette or 0:.4f} - {tolerance}",
        )
    return ActivationDecision(
        False,
        f"silhouette {new_silhouette:.4f} < active v{active.version} {active.silhouette:.4f} - {tolerance}",
    )


# ---- training ---------------------------------------------------------------------------------
def _train_locked(
    settings: Settings,
    *,
    k_min: int,
    k_max: int,
    force: bool,
    seed: int,
    report: Progress,
    n_threads: int | None,
) -> SegmentationModel:
    clock = _Clock()
    report("reading", 0.0)
    previous = active_model()
    previous_reference = dict(previous.reference_profile or {}) if previous is not None else {}
    candidates = data.read_candidate_columns()
    clock.lap("read")
    needed = max(MIN_CANDIDATES, k_max + 1)
    if len(candidates) < needed:
        raise ValidationFailed(f"Segmentation needs at least {needed} candidates, not {len(candidates)}")
    trained_at = utcnow()
    reference_year = trained_at.year
    store = model_store()
    stored = None
    # Two helpers while the main thread computes: reading what the evaluation needs during
    # training, and writing the assignments during profiling (PostgreSQL only; the database
    # server does that work on the other core).
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="segmentation") as background:
        evaluation_data = _start_evaluation_reads(previous, background)
        window_read = _start_window_read(background)
        frame = ml_features.candidate_frame(candidates.table, reference_year=reference_year)
        clock.lap("frame")
        report("features", 5.0)
        result = ml_training.train_segmenter(
            frame,
            k_min=k_min,
            k_max=k_max,
            random_state=seed,
            n_threads=n_threads,
            progress=lambda stage, percent: report(stage, 5.0 + 0.75 * percent),
        )
        clock.lap("train")
        # The last report until "done": from here on everything is one transaction.
        report("registering", 82.0)
        try:
            version = (
                int(db.session.scalar(select(func.coalesce(func.max(SegmentationModel.version), 0))) or 0) + 1
            )
            window = window_read.result() if window_read is not None else data.candidate_window()
            model = _new_model(result, version, window, trained_at, reference_year)
            db.session.add(model)
            db.session.flush()
            decision = decide_activation(
                new_silhouette=model.silhouette,
                active=previous,
                tolerance=settings.segmentation_silhouette_tolerance,
                force=force,
            )
            model.notes = f"{'activated' if decision.activate else 'not activated'}: {decision.reason}"
            copying = (
                _activate(model, candidates.ids, result.labels, background=background)
                if decision.activate
                else None
            )
            clock.lap("register")
            # From here until the COPY is done the session's connection is busy: no database use
            # (and no progress reports: they commit, and this transaction must commit whole).
            profiles = ml_profiles.profile_segments(frame, result.labels, k=result.k)
            clock.lap("profile")
            pca = _pca(result, frame, profiles, seed)
            reference = ml_drift.reference_profile(frame, result.labels, k=result.k)
            drift_at_training = _drift_at_training(previous_reference, frame, previous)
            clock.lap("pca_reference_drift")
            evaluation = _evaluate(candidates.ids, result, evaluation_data, previous)
            clock.lap("evaluate")
            metadata = _metadata(result, version, reference_year, seed, window, trained_at)
            stored = store.save(
                version,
                ml_registry.ModelArtifact(pipeline=result.pipeline, metadata=metadata, pca=pca.pop("_pca")),
            )
            clock.lap("save_artifact")
            if copying is not None:
                copying.result()
            clock.lap("assignments_wait")
            _complete_model(model, profiles, stored, pca, reference, evaluation, drift_at_training, result)
            if previous is not None and drift_at_training is not None:
                previous.drift = _json_safe(
                    {
                        **drift_at_training,
                        "computed_at": trained_at.isoformat(),
                        "model_version": previous.version,
                    }
                )
            audit.record(
                "segmentation.train",
                entity_type="segmentation_model",
                entity_id=model.id,
                after={**_model_snapshot(model), "activated": decision.activate, "reason": decision.reason},
            )
            model.metrics = {
                **model.metrics,
                "timings": {**result.timings, **clock.timings},
                "cpu_seconds": clock.cpu,
            }
            db.session.commit()
        except BaseException:
            db.session.rollback()
            if stored is not None:
                store.delete(stored.uri)  # no row points at it: do not leave an orphan artifact
            raise
    clock.lap("commit")
    report("done", 100.0)
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


def _new_model(
    result: TrainingResult,
    version: int,
    window: dict[str, Any],
    trained_at: datetime,
    reference_year: int,
) -> SegmentationModel:
    """The version's row and its segments, enough to write assignments; `_complete_model` adds the rest."""
    model = SegmentationModel(
        version=version,
        status="candidate",
        k=result.k,
        features=list(ml_features.MODEL_INPUT_COLUMNS),
        metrics={},
        silhouette=_finite(result.metrics["silhouette"]),
        davies_bouldin=_finite(result.metrics["davies_bouldin"]),
        calinski_harabasz=_finite(result.metrics["calinski_harabasz"]),
        inertia=_finite(result.metrics["inertia"]),
        training_size=result.n_samples,
        sample_size=result.fit_sample_size,
        library_versions=result.library_versions,
        data_window={**window, "trained_at": trained_at.isoformat(), "reference_year": reference_year},
        reference_profile={},
        # Names, profiles and the artifact are filled in before commit; nobody sees the rows before.
        artifact_uri="",
        artifact_sha256="",
    )
    sizes = result.sizes
    for cluster in range(result.k):
        model.segments.append(
            Segment(
                cluster_index=cluster,
                name=f"Segmento {cluster + 1}",
                size=int(sizes[cluster]),
                share=float(sizes[cluster] / max(result.n_samples, 1)),
            )
        )
    return model


def _complete_model(
    model: SegmentationModel,
    profiles: list[SegmentProfile],
    stored: Any,
    pca: dict[str, Any],
    reference: dict[str, Any],
    evaluation: dict[str, Any],
    drift_at_training: dict[str, Any] | None,
    result: TrainingResult,
) -> None:
    model.artifact_uri, model.artifact_sha256 = stored.uri, stored.sha256
    model.reference_profile = _json_safe(reference)
    model.persona_ari = evaluation.get("persona", {}).get("ari")
    model.metrics = _json_safe(
        {
            "k_search": result.k_search,
            "chosen": result.metrics,
            "sample_sizes": _sample_sizes(result),
            "weights": dict(ml_pipeline.DEFAULT_WEIGHTS),
            "pca": pca,
            **evaluation,
            **({"drift_at_training": drift_at_training} if drift_at_training else {}),
        }
    )
    by_cluster = {profile.cluster_index: profile for profile in profiles}
    for segment in model.segments:
        profile = by_cluster[segment.cluster_index]
        segment.name, segment.description = profile.name, profile.description
        segment.size, segment.share = profile.size, profile.share
        segment.profile = _json_safe({**profile.profile, "distinctive": profile.distinctive})
        segment.pca_x, segment.pca_y = profile.pca_x, profile.pca_y


def _drift_at_training(
    reference: dict[str, Any], frame: pd.DataFrame, previous: SegmentationModel | None
) -> dict[str, Any] | None:
    """Today's data against the active version's training data: recorded when retraining."""
    if previous is None or not reference:
        return None
    try:
        return ml_drift.compute_drift(reference, frame)
    except ValueError as exc:  # an older profile format
        logger.warning("drift against v%d not computed: %s", previous.version, exc)
        return None


def _start_window_read(background: ThreadPoolExecutor) -> Future[dict[str, Any]] | None:
    """On PostgreSQL, count the candidates and their creation window in the background."""
    if not data.is_postgresql():
        return None
    engine = db.engine
    return background.submit(lambda: data.candidate_window(engine=engine))


def _start_evaluation_reads(
    previous: SegmentationModel | None, background: ThreadPoolExecutor
) -> Future[Any] | None:
    """On PostgreSQL, read personas and the active version's assignments in the background."""
    if not data.is_postgresql():
        return None
    engine = db.engine
    previous_id = previous.id if previous is not None else None

    def read() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
        personas = data.read_personas(engine=engine)
        assignments = data.read_assignments(previous_id, engine=engine) if previous_id is not None else None
        return personas, assignments

    return background.submit(read)


def _pca(
    result: TrainingResult, frame: pd.DataFrame, profiles: list[SegmentProfile], seed: int
) -> dict[str, Any]:
    """Fit the PCA plane on a sample, place every segment's centroid and keep a plotting sample."""
    rows = ml_profiles.sample_indices(len(frame), random_state=seed)
    pca = ml_profiles.fit_pca(result.pipeline, frame.iloc[rows], random_state=seed)
    centroids = ml_profiles.pca_centroids(result.pipeline, pca)
    for profile in profiles:
        profile.pca_x, profile.pca_y = (float(v) for v in centroids[profile.cluster_index])
    shown = rows[: min(PCA_POINTS, len(rows))]
    return {
        "_pca": pca,
        "explained_variance_ratio": [round(float(v), 6) for v in pca.explained_variance_ratio_],
        "sample_size": len(rows),
        "points": ml_profiles.pca_projection(result.pipeline, pca, frame.iloc[shown]),
    }


def _evaluate(
    ids: np.ndarray,
    result: TrainingResult,
    prefetched: Future[Any] | None,
    previous: SegmentationModel | None,
) -> dict[str, Any]:
    """Persona ARI (simulated data only) and agreement with the active version's assignments."""
    if prefetched is not None:
        (persona_ids, personas), old = prefetched.result()
    else:
        persona_ids, personas = data.read_personas()
        old = data.read_assignments(previous.id) if previous is not None else None
    out: dict[str, Any] = {}
    if len(persona_ids):
        ari, shared = ml_evaluation.aligned_adjusted_rand(ids, result.labels, persona_ids, personas)
        if shared:
            out["persona"] = {"ari": round(ari, 6), "candidates": shared}
    if previous is not None and old is not None and len(old[0]):
        ari, shared = ml_evaluation.aligned_adjusted_rand(ids, result.labels, old[0], old[1])
        out["stability"] = {"ari": round(ari, 6), "candidates": shared, "against_version": previous.version}
    return out


def _metadata(
    result: TrainingResult,
    version: int,
    reference_year: int,
    seed: int,
    window: dict[str, Any],
    trained_at: datetime,
) -> dict[str, Any]:
    return {
        "version": version,
        "k": result.k,
        "features": list(ml_features.MODEL_INPUT_COLUMNS),
        "weights": dict(ml_pipeline.DEFAULT_WEIGHTS),
        "metrics": result.metrics,
        "k_search": result.k_search,
        "sample_sizes": _sample_sizes(result),
        "reference_year": reference_year,
        "random_state": seed,
        "data_window": window,
        "trained_at": trained_at.isoformat(),
    }


def _sample_sizes(result: TrainingResult) -> dict[str, int]:
    return {
        "training": result.n_samples,
        "fit": result.fit_sample_size,
        "score": result.score_sample_size,
        "silhouette": result.silhouette_sample_size,
    }


# ---- activation ---------------------------------------------------------------------------------
def _activate(
    model: SegmentationModel,
    candidate_ids: np.ndarray,
    labels: np.ndarray,
    *,
    background: ThreadPoolExecutor | None = None,
) -> Future[None] | None:
    """Retire the active version, make `model` active and write its assignments (caller commits).

    With `background` the bulk write may still be running when this returns (see
    `segmentation_data.replace_assignments`).
    """
    for other in db.session.scalars(
        select(SegmentationModel).where(
            SegmentationModel.status == "active", SegmentationModel.id != model.id
        )
    ):
        other.status = "retired"
    model.status = "active"
    model.activated_at = utcnow()
    db.session.flush()
    by_cluster = {segment.cluster_index: segment.id for segment in model.segments}
    lookup = np.full(max(by_cluster) + 1, -1, dtype=np.int64)
    for cluster, segment_id in by_cluster.items():
        lookup[cluster] = segment_id
    segment_ids = lookup[np.asarray(labels, dtype=np.int64)] if len(labels) else np.empty(0, dtype=np.int64)
    return data.replace_assignments(
        model_id=model.id, candidate_ids=candidate_ids, segment_ids=segment_ids, background=background
    )


# ---- helpers ------------------------------------------------------------------------------------


def _k_range(k_min: int | None, k_max: int | None) -> tuple[int, int]:
    settings = current_settings()
    k_min = settings.segmentation_k_min if k_min is None else k_min
    k_max = settings.segmentation_k_max if k_max is None else k_max
    if not 2 <= k_min <= k_max <= MAX_K:
        raise ValidationFailed(f"k range must satisfy 2 <= k_min <= k_max <= {MAX_K} (got {k_min}..{k_max})")
    return k_min, k_max


def _model_by_version(version: int) -> SegmentationModel:
    model = db.session.scalar(select(SegmentationModel).where(SegmentationModel.version == version))
    if model is None:
        raise NotFound(f"Segmentation model version {version} does not exist")
    return model


def _require_active_model() -> SegmentationModel:
    model = active_model()
    if model is None:
        raise NotFound("There is no active segmentation model yet; train one first")
    return model


def _segment_by_cluster(model: SegmentationModel, cluster: int) -> Segment:
    for segment in model.segments:
        if segment.cluster_index == cluster:
            return segment
    raise Conflict(f"Model version {model.version} has no segment for cluster {cluster}")


def _load_artifact(model: SegmentationModel) -> ModelArtifact:
    """The version's artifact from the per-process cache, loading (and verifying) it on a miss."""

    def load() -> ModelArtifact:
        try:
            return model_store().load(model.artifact_uri, sha256=model.artifact_sha256)
        except ml_registry.ArtifactError as exc:
            logger.error("segmentation artifact v%d unusable: %s", model.version, exc)
            raise ServiceUnavailable(
                f"The artifact of model version {model.version} cannot be used: {exc}"
            ) from exc

    return ml_registry.model_cache.get((model.version, model.artifact_sha256), load)


def _reference_year(model: SegmentationModel) -> int:
    # Ages are computed as of the training year, so a version keeps assigning the way it was trained.
    year = (model.data_window or {}).get("reference_year")
    return int(year) if year else datetime.now(UTC).year


def _model_snapshot(model: SegmentationModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"version": model.version, "status": model.status, "k": model.k, "silhouette": model.silhouette}


def _json_safe(value: Any) -> Any:
    """JSON columns refuse NaN on PostgreSQL and numpy scalars everywhere: make plain values."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
