"""Job openings: list, read, create, update and close."""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect

from adflux.catalogue import gettext as _
from adflux.constants import TASK_FOLLOW_JOB
from adflux.extensions import db
from adflux.models import JobOpening
from adflux.models.base import utcnow
from adflux.services import audit, task_queue
from adflux.services.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from adflux.services.pagination import Page, PreparedPage, paginate, paginate_prepared, prepare_page
from adflux.services.text_search import city_names, text_matches

logger = logging.getLogger(__name__)

AUDITED_FIELDS = (
    "external_ref",
    "title",
    "company",
    "city",
    "department",
    "category",
    "modality",
    "salary_min",
    "salary_max",
    "education_required",
    "experience_years_min",
    "apply_url",
    "status",
    "close_reason",
)


def list_jobs(
    *,
    page: int = 1,
    page_size: int = 20,
    status: str | None = None,
    city: str | None = None,
    category: str | None = None,
    modality: str | None = None,
    q: str | None = None,
    as_records: bool = False,
) -> Page[Any]:
    """Job openings matching the filters, newest first.

    `as_records` (what the API serialises): without words or a city, each opening comes as a
    dict of its columns rather than an ORM instance, from a statement built once per set of
    filters and run as a prepared statement (`pagination.paginate_prepared`).
    """
    counted_as = ("jobs", status, city, category, modality, q)
    if as_records and not city and not (q and q.strip()):
        filters = {"status": status or None, "category": category or None, "modality": modality or None}
        prepared = _prepared_page(
            db.session.get_bind().dialect.name, *(v is not None for v in filters.values())
        )
        values = {name: value for name, value in filters.items() if value is not None}
        return paginate_prepared(prepared, values, page=page, page_size=page_size, counted_as=counted_as)
    stmt = select(JobOpening)
    if status:
        stmt = stmt.where(JobOpening.status == status)
    if city:
        stmt = stmt.where(JobOpening.city.in_(city_names(city)))
    if category:
        stmt = stmt.where(JobOpening.category == category)
    if modality:
        stmt = stmt.where(JobOpening.modality == modality)
    if q and q.strip():
        stmt = stmt.where(text_matches((JobOpening.title, JobOpening.company, JobOpening.description), q))
    return paginate(
        stmt.order_by(JobOpening.id.desc()),
        page=page,
        page_size=page_size,
        version="job_openings",
        counted_as=counted_as,
    )


@functools.lru_cache(maxsize=32)
def _prepared_page(dialect: str, status: bool, category: bool, modality: bool) -> PreparedPage:
    """The job list's page statement for one set of filters, built once (values bound per call)."""
    columns = [attr.class_attribute.label(attr.key) for attr in sa_inspect(JobOpening).column_attrs]
    stmt = select(*columns)
    for used, column in (
        (status, JobOpening.status),
        (category, JobOpening.category),
        (modality, JobOpening.modality),
    ):
        if used:
            stmt = stmt.where(column == bindparam(column.key, type_=column.type))
    return prepare_page(stmt.order_by(JobOpening.id.desc()), version="job_openings")


def get_job(*, job_id: int) -> JobOpening:
    """One job opening, or NotFound."""
    job = db.session.get(JobOpening, job_id)
    if job is None:
        raise NotFound(_("Job opening %(job_id)s does not exist", job_id=job_id))
    return job


def create_job(*, data: dict[str, Any]) -> JobOpening:
    """Create a job opening from validated data; external_ref must be new."""
    ref = data.get("external_ref") or f"JOB-{uuid.uuid4().hex[:12].upper()}"
    if db.session.scalar(select(JobOpening.id).where(JobOpening.external_ref == ref)) is not None:
        raise Conflict(_("A job opening with external_ref %(ref)r already exists", ref=ref))
    job = JobOpening(**{**data, "external_ref": ref, "status": "open"})
    db.session.add(job)
    db.session.flush()
    audit.record("job.create", entity_type="job", entity_id=job.id, after=audit.snapshot(job, AUDITED_FIELDS))
    db.session.commit()
    return job


def update_job(*, job_id: int, changes: dict[str, Any]) -> JobOpening:
    """Apply validated changes to an open job opening."""
    job = get_job(job_id=job_id)
    if job.status == "closed":
        raise InvalidTransition(_("Job opening %(job_id)s is closed and cannot be edited", job_id=job_id))
    low = changes.get("salary_min", job.salary_min)
    high = changes.get("salary_max", job.salary_max)
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            _("salary_min must not exceed salary_max"),
            errors={"salary_max": ["salary_min must not exceed salary_max"]},
        )
    before = audit.snapshot(job, AUDITED_FIELDS)
    for name, value in changes.items():
        setattr(job, name, value)
    audit.record(
        "job.update",
        entity_type="job",
        entity_id=job.id,
        before=before,
        after=audit.snapshot(job, AUDITED_FIELDS),
    )
    db.session.commit()
    return job


def close_job(*, job_id: int) -> JobOpening:
    """Close a job opening and stop its advertising: its live campaigns are paused on every
    platform by the campaign loop (a background task; the sweep catches a lost one).
    Closing twice is a conflict."""
    job = get_job(job_id=job_id)
    if job.status == "closed":
        raise InvalidTransition(_("Job opening %(job_id)s is already closed", job_id=job_id))
    before = audit.snapshot(job, AUDITED_FIELDS)
    job.status = "closed"
    job.closed_at = utcnow()
    job.close_reason = "manual"
    audit.record(
        "job.close",
        entity_type="job",
        entity_id=job.id,
        before=before,
        after=audit.snapshot(job, AUDITED_FIELDS),
    )
    db.session.commit()
    try:
        task_queue.send(TASK_FOLLOW_JOB, job.id, "closed", None, queue="automation")
    except task_queue.QueueUnavailable:
        logger.error(
            "job %s closed but the queue is down: the automation sweep will pause its campaigns", job.id
        )
    return job
