"""The campaign builder: opening → platforms → segments → money and dates → a draft, then its
review (each platform's ad as that platform shows it, compliance in one line, what will be spent
where) and publishing."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import (
    CAMPAIGN_OBJECTIVES,
    MIN_CUSTOM_AUDIENCE,
    PLATFORM_LABELS,
    PLATFORMS,
    too_small_for,
)
from adflux.services import campaigns as campaigns_service
from adflux.services import creative_images, forecasts
from adflux.services import jobs as jobs_service
from adflux.services import reports as reports_service
from adflux.services import segmentation as segmentation_service
from adflux.services.campaigns.duplicates import duplicate_campaign, identical_live_campaign
from adflux.services.errors import DomainError, NotFound, ValidationFailed
from adflux.web.auth import login_required
from adflux.web.compliance_text import compliance_summary
from adflux.web.views.blueprint import bp

logger = logging.getLogger(__name__)

OBJECTIVE_LABELS = {"traffic": _l("visits to the opening"), "leads": _l("applications")}
# The builder offers at most this many open openings in its list (the jobs page finds the rest).
JOB_CHOICES = 200


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required("manager")
def campaign_new() -> str | BaseResponse | tuple[str, int]:
    """The builder form; on a valid submit, a draft and its review page."""
    form = request.form if request.method == "POST" else MultiDict(request.args)
    errors: dict[str, str] = {}
    twin = None
    if request.method == "POST":
        values, errors = _read_form(form)
        if not errors:
            twin = (
                None
                if form.get("confirm_duplicate")
                else identical_live_campaign(
                    job_id=values["job_id"],
                    platforms=values["platforms"],
                    segment_ids=values["segment_ids"],
                    budget_total=values["budget_total"],
                )
            )
            if twin is None:
                try:
                    campaign = campaigns_service.create_campaign(**values)
                except NotFound:
                    errors["job_id"] = _("That job opening does not exist.")
                except ValidationFailed as exc:
                    errors.update({field: "; ".join(msgs) for field, msgs in (exc.errors or {}).items()})
                    errors.setdefault("form", exc.message)
                except DomainError as exc:
                    errors["form"] = exc.message
                else:
                    return redirect(url_for("web.campaign_review", campaign_id=campaign.id))
    page = render_template("campaigns/new.html", **_builder_context(form, errors, twin))
    return (page, 400) if errors else page


@bp.get("/campaigns/<int:campaign_id>/review")
@login_required("manager")
def campaign_review(campaign_id: int) -> str:
    """A draft before publishing: each platform's ad mock-up, compliance, and the spend per platform."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    preview = campaigns_service.preview_campaign(campaign_id=campaign_id)
    platforms = [{**item, "summary": compliance_summary(item["ad_groups"])} for item in preview["platforms"]]
    return render_template(
        "campaigns/review.html",
        campaign=campaign,
        forecast=_forecast(campaign),
        platforms=platforms,
        platform_labels=PLATFORM_LABELS,
        objective_labels=OBJECTIVE_LABELS,
    )


@bp.get("/campaigns/<int:campaign_id>/creative/<platform>.png")
@login_required("viewer")
def campaign_creative_image(campaign_id: int, platform: str) -> Response:
    """The campaign's ad image in the size `platform` shows it (square feed, vertical full screen)."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    if platform not in PLATFORMS:
        abort(404)
    data = creative_images.image_for(campaign.job, platform)
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _forecast(campaign: Any) -> dict[str, Any] | None:
    """Applications and CPA the active forecast model expects for this plan (None without a model)."""
    days = ((campaign.end_date - campaign.start_date).days + 1) if campaign.end_date else 30
    try:
        return forecasts.forecast(
            category=campaign.job.category,
            city=campaign.job.city,
            platforms=sorted({pc.platform for pc in campaign.platform_campaigns}) or ["meta"],
            segments=max(len(campaign.segments), 1),
            budget_total=campaign.budget_total,
            days=max(days, 1),
        )
    except DomainError:
        return None


@bp.post("/campaigns/<int:campaign_id>/duplicate")
@login_required("manager")
def campaign_duplicate(campaign_id: int) -> BaseResponse:
    """A new draft copied from this campaign, opened on its review page."""
    try:
        copy = duplicate_campaign(campaign_id=campaign_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash(_("Could not copy the campaign: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("web.campaign_detail", campaign_id=campaign_id))
    flash(_("A copy was made as a draft; review it before publishing."), "success")
    return redirect(url_for("web.campaign_review", campaign_id=copy.id))


def _read_form(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The builder's fields as create_campaign takes them, and a message per bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def number(name: str, *, required: bool = False) -> int | None:
        raw = (form.get(name) or "").replace(".", "").replace(" ", "").replace("$", "").strip()
        if not raw:
            if required:
                errors[name] = _("Required.")
            return None
        if not raw.isdigit() or len(raw) > 15:
            errors[name] = _("Write a whole number of pesos, without decimals.")
            return None
        return int(raw)

    def day(name: str) -> date | None:
        raw = (form.get(name) or "").strip()
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = _("Not a valid date.")
            return None

    job_id = number("job_id", required=True)
    values["job_id"] = job_id
    values["platforms"] = [p for p in form.getlist("platforms") if p in PLATFORMS]
    if not values["platforms"] or len(values["platforms"]) != len(form.getlist("platforms")):
        errors["platforms"] = _("Choose at least one platform.")
    segment_ids = [s for s in form.getlist("segment_ids") if s]
    if not all(s.isdigit() for s in segment_ids):
        errors["segment_ids"] = _("Unknown segment.")
        segment_ids = []
    values["segment_ids"] = [int(s) for s in segment_ids]
    values["budget_total"] = number("budget_total", required=True)
    values["budget_daily"] = number("budget_daily")
    values["target_cpa"] = number("target_cpa")
    values["start_date"] = day("start_date")
    values["end_date"] = day("end_date")
    objective = form.get("objective") or "traffic"
    if objective not in CAMPAIGN_OBJECTIVES:
        errors["objective"] = _("Unknown objective.")
    values["objective"] = objective
    name = (form.get("name") or "").strip()
    if len(name) > 200:
        errors["name"] = _("At most 200 characters.")
    values["name"] = name or None
    return values, errors


def _builder_context(form: MultiDict[str, str], errors: dict[str, str], twin: Any) -> dict[str, Any]:
    """What the builder form shows: openings, platforms, the active model's segments and results."""
    model = segmentation_service.active_model()
    segments = list(model.segments) if model is not None else []
    results: dict[int, dict[str, Any]] = {}
    if segments:
        report = reports_service.performance_report(group_by=("segment", "platform"))
        for row in report["rows"]:
            results.setdefault(row["segment"], {})[row["platform"]] = row
    job_id = form.get("job_id", type=int)
    chosen_job = None
    if job_id:
        try:
            chosen_job = jobs_service.get_job(job_id=job_id)
        except NotFound:
            chosen_job = None
    jobs = jobs_service.list_jobs(status="open", page_size=JOB_CHOICES).items
    return {
        "form": form,
        "errors": errors,
        "twin": twin,
        "jobs": jobs,
        "chosen_job": chosen_job,
        "platforms": PLATFORMS,
        "platform_labels": PLATFORM_LABELS,
        "segments": segments,
        "segment_results": results,
        "segment_too_small": {s.id: too_small_for(s.size) for s in segments},
        "min_audience": MIN_CUSTOM_AUDIENCE,
        "objectives": OBJECTIVE_LABELS,
    }
