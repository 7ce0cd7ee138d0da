"""Candidates: list, read and create."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment
from adflux.services import audit
from adflux.services.errors import Conflict, NotFound
from adflux.services.pagination import Keyset, Page, paginate
from adflux.services.text_search import city_names


def list_candidates(
    *,
    page: int = 1,
    page_size: int = 20,
    city: str | None = None,
    education_level: str | None = None,
    desired_category: str | None = None,
    segment_id: int | None = None,
    cursor: str | None = None,
) -> Page[Candidate]:
    """Candidates matching the filters; `segment_id` lists the members of one segment."""
    stmt = select(Candidate)
    if segment_id is not None:
        segment = db.session.get(Segment, segment_id)
        if segment is None:
            raise NotFound(_("Segment %(segment_id)s does not exist", segment_id=segment_id))
        stmt = stmt.join(
            CandidateSegment,
            (CandidateSegment.candidate_id == Candidate.id) & (CandidateSegment.model_id == segment.model_id),
        ).where(CandidateSegment.segment_id == segment_id)
    if city:
        stmt = stmt.where(Candidate.city.in_(city_names(city)))
    if education_level:
        stmt = stmt.where(Candidate.education_level == education_level)
    if desired_category:
        stmt = stmt.where(Candidate.desired_category == desired_category)
    # A segment's members are in candidate_segments, which has no data-version token: count those.
    versioned = segment_id is None
    return paginate(
        stmt,
        page=page,
        page_size=page_size,
        keyset=Keyset((Candidate.id,)),
        cursor=cursor,
        version="candidates" if versioned else None,
        counted_as=("candidates", city, education_level, desired_category),
    )


def get_candidate(*, candidate_id: int) -> Candidate:
    """One candidate, or NotFound."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound(_("Candidate %(candidate_id)s does not exist", candidate_id=candidate_id))
    return candidate


def create_candidate(*, data: dict[str, Any]) -> Candidate:
    """Create a candidate from validated data; external_ref must be new."""
    ref = data.get("external_ref") or f"CAND-{uuid.uuid4().hex[:12].upper()}"
    if db.session.scalar(select(Candidate.id).where(Candidate.external_ref == ref)) is not None:
        raise Conflict(_("A candidate with external_ref %(ref)r already exists", ref=ref))
    candidate = Candidate(**{**data, "external_ref": ref})
    db.session.add(candidate)
    db.session.flush()
    # No PII in the audit trail: the reference is enough to find the row.
    audit.record(
        "candidate.create", entity_type="candidate", entity_id=candidate.id, after={"external_ref": ref}
    )
    db.session.commit()
    return candidate
