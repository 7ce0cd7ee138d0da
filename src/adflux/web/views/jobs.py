"""The job openings page: search ignoring accents and case, filters, and each opening's campaigns."""

from __future__ import annotations

from flask import render_template, request

from adflux.constants import JOB_CATEGORIES, JOB_CATEGORY_LABELS, JOB_STATUSES, MODALITIES, MODALITY_LABELS
from adflux.services import jobs as jobs_service
from adflux.services.campaigns.listing import campaigns_of_jobs
from adflux.web.auth import current_session_user, login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

FILTERS = ("q", "city", "category", "modality", "status")


@bp.get("/jobs")
@login_required("viewer")
def job_list() -> str:
    """Job openings, newest first, by words, city, category, modality and status (open by default)."""
    chosen = {name: (request.args.get(name) or "").strip()[:120] for name in FILTERS}
    if "status" not in request.args:
        chosen["status"] = "open"
    # An unknown category, modality or status is ignored rather than refused: it comes from a link.
    for name, allowed in (("category", JOB_CATEGORIES), ("modality", MODALITIES), ("status", JOB_STATUSES)):
        if chosen[name] not in allowed:
            chosen[name] = ""
    page = jobs_service.list_jobs(
        page=page_number(),
        page_size=PAGE_SIZE,
        q=chosen["q"] or None,
        city=chosen["city"] or None,
        category=chosen["category"] or None,
        modality=chosen["modality"] or None,
        status=chosen["status"] or None,
    )
    principal = current_session_user()
    return render_template(
        "jobs/list.html",
        page=page,
        chosen=chosen,
        campaigns=campaigns_of_jobs([job.id for job in page.items]),
        categories=JOB_CATEGORY_LABELS,
        modalities=MODALITY_LABELS,
        can_create=principal is not None and principal.has_role("manager"),
    )
