"""Reading versions and segments: model versions, a version's segments, a segment's members,
and the PCA picture of a version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment, SegmentationModel
from adflux.services.errors import NotFound
from adflux.services.pagination import Page, paginate
from adflux.services.segmentation.versions import model_by_version, require_active_model


def list_models(*, page: int = 1, page_size: int = 20, status: str | None = None) -> Page[SegmentationModel]:
    """Model versions, newest first."""
    stmt = select(SegmentationModel)
    if status:
        stmt = stmt.where(SegmentationModel.status == status)
    return paginate(stmt.order_by(SegmentationModel.version.desc()), page=page, page_size=page_size)


def get_model(*, version: int) -> SegmentationModel:
    """One model version, or NotFound."""
    return model_by_version(version)


def list_segments(*, version: int | None = None, page: int = 1, page_size: int = 50) -> Page[Segment]:
    """The segments of a version (default: the active one), largest first."""
    model = model_by_version(version) if version is not None else require_active_model()
    stmt = select(Segment).where(Segment.model_id == model.id).order_by(Segment.size.desc(), Segment.id)
    return paginate(stmt, page=page, page_size=page_size)


def get_segment(*, segment_id: int) -> Segment:
    """One segment, or NotFound."""
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(_("Segment %(segment_id)s does not exist", segment_id=segment_id))
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
    model = model_by_version(version)
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
