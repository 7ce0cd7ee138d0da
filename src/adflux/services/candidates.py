"""Candidates: list, read and create."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Candidate, CandidateSegment, Segment
from adflux.services import audit
from adflux.services.errors import Conflict, NotFound
from adflux.services.pagination import Keyset, Page, PreparedPage, paginate, paginate_prepared, prepare_page
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
    as_records: bool = False,
) -> Page[Any]:
    """Candidates matching the filters; `segment_id` lists the members of one segment.

    `as_records` (what the API serialises): outside a segment and without a city, each candidate
    comes as a dict of its columns, from a statement built once per set of filters and run as a
    prepared statement (`pagination.paginate_prepared`).
    """
    counted_as = ("candidates", city, education_level, desired_category)
    if as_records and segment_id is None and not city:
        filters = {"education_level": education_level or None, "desired_category": desired_category or None}
        dialect = db.session.get_bind().dialect.name
        used = tuple(value is not None for value in filters.values())
        prepared = _prepared_page(dialect, *used, after=bool(cursor))
        values = {name: value for name, value in filters.items() if value is not None}
        if cursor:
            values["after_id"] = KEYSET.decode(cursor)[0]
        found = paginate_prepared(
            prepared,
            values,
            page=page,
            page_size=page_size,
            counted_as=counted_as,
            after_cursor=bool(cursor),
        )
        next_cursor = KEYSET.encode(_Record(found.items[-1])) if len(found.items) == page_size else None
        return dataclasses.replace(found, page=None if cursor else page, next_cursor=next_cursor)
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
        keyset=KEYSET,
        cursor=cursor,
        version="candidates" if versioned else None,
        counted_as=counted_as,
    )


KEYSET = Keyset((Candidate.id,))


class _Record:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


@functools.lru_cache(maxsize=32)
def _prepared_page(
    dialect: str, education_level: bool, desired_category: bool, *, after: bool
) -> PreparedPage:
    """The candidate list's page statement for one set of filters (and after a cursor or not)."""
    stmt = select(*[attr.class_attribute.label(attr.key) for attr in sa_inspect(Candidate).column_attrs])
    for used, column in (
        (education_level, Candidate.education_level),
        (desired_category, Candidate.desired_category),
    ):
        if used:
            stmt = stmt.where(column == bindparam(column.key, type_=column.type))
    cursor = Candidate.id > bindparam("after_id", type_=Candidate.id.type) if after else None
    return prepare_page(stmt.order_by(Candidate.id.asc()), version="candidates", after=cursor)


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
