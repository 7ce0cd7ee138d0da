"""Candidates' segments: one candidate's (predicted on first request), and pruning the assignments
of old versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment, SegmentationModel
from adflux.services.errors import Conflict, NotFound
from adflux.services.segmentation.versions import load_artifact, reference_year, require_active_model

ml_features = lazy_module("adflux.ml.features")
data = lazy_module("adflux.services.segmentation_data")

# Assignments of this many most recent versions are kept; older retired ones are pruned.
KEEP_ASSIGNMENT_VERSIONS = 3


def assign_candidate(*, candidate_id: int) -> CandidateSegment:
    """The candidate's segment under the active model, predicting it now (one predict) if new."""
    model = require_active_model()
    assignment = db.session.get(CandidateSegment, (model.id, candidate_id))
    if assignment is not None:
        return assignment
    if db.session.get(Candidate, candidate_id) is None:
        raise NotFound(_("Candidate %(candidate_id)s does not exist", candidate_id=candidate_id))
    artifact = load_artifact(model)
    rows = data.read_candidate_rows([candidate_id])
    frame = ml_features.candidate_frame(rows.table, reference_year=reference_year(model))
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


def _segment_by_cluster(model: SegmentationModel, cluster: int) -> Segment:
    for segment in model.segments:
        if segment.cluster_index == cluster:
            return segment
    raise Conflict(
        _(
            "Model version %(version)s has no segment for cluster %(cluster)s",
            version=model.version,
            cluster=cluster,
        )
    )
