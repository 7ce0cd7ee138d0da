"""Changing a live campaign from the dashboard: budget, daily budget, end date, target CPA,
platform weights and segments, handed to the change service (which propagates them to every platform through
the idempotent path and records each platform's state)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.services import campaigns as campaigns_service
from adflux.services import segmentation as segmentation_service
from adflux.services.campaigns import changes, segment_changes
from adflux.services.errors import DomainError, NotFound, ValidationFailed
from adflux.web.auth import current_session_user, login_required
from adflux.web.views.blueprint import bp

logger = logging.getLogger(__name__)

LIVE = ("active", "partially_active", "paused", "partially_paused")


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required("manager")
def campaign_edit(campaign_id: int) -> str | BaseResponse | tuple[str, int]:
    """The change form of a live campaign; a valid submit is sent to every platform."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    if campaign.status not in LIVE:
        flash(_("Only a live campaign can be changed."), "error")
        return redirect(url_for("web.campaign_detail", campaign_id=campaign_id))
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _read(campaign)
        if not errors:
            try:
                user = current_session_user()
                actor = user.email if user is not None else "dashboard"
                add, remove = values.pop("add", []), values.pop("remove", [])
                if values:
                    changes.change_campaign(db.session, campaign_id, actor=actor, **values)
                if add or remove:
                    segment_changes.change_segments(
                        db.session, campaign_id, actor=actor, add=add, remove=remove
                    )
            except NotFound:
                raise
            except ValidationFailed as exc:
                errors = {_field(f): "; ".join(m) for f, m in (exc.errors or {}).items()} or {
                    "form": exc.message
                }
            except DomainError as exc:
                errors = {"form": exc.message}
            else:
                flash(_("Changes sent to every platform; each platform's state is shown below."), "success")
                return redirect(url_for("web.campaign_detail", campaign_id=campaign_id))
    model = segmentation_service.active_model()
    page = render_template(
        "campaigns/edit.html",
        campaign=campaign,
        errors=errors,
        form=request.form,
        platform_labels=PLATFORM_LABELS,
        segments=list(model.segments) if model is not None else [],
        current_segments=[segment.id for segment in campaign.segments],
    )
    return (page, 400) if errors else page


def _read(campaign: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Only the fields that changed, as change_campaign takes them, and a message per bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in ("budget_total", "budget_daily", "target_cpa"):
        raw = (request.form.get(name) or "").replace(".", "").replace("$", "").replace(" ", "")
        if not raw:
            continue
        if not raw.isdigit() or len(raw) > 15:
            errors[name] = _("Write a whole number of pesos, without decimals.")
        elif int(raw) != getattr(campaign, name):
            values[name] = int(raw)
    raw_end = (request.form.get("end_date") or "").strip()
    if raw_end:
        try:
            end = date.fromisoformat(raw_end)
        except ValueError:
            errors["end_date"] = _("Not a valid date.")
        else:
            if end != campaign.end_date:
                values["end_date"] = end
    weights: dict[str, float] = {}
    for pc in campaign.platform_campaigns:
        raw = (request.form.get(f"weight_{pc.platform}") or "").replace(",", ".").strip()
        try:
            weights[pc.platform] = float(raw) if raw else pc.budget_weight
        except ValueError:
            errors[f"weight_{pc.platform}"] = _("Write a number.")
    if weights != {pc.platform: pc.budget_weight for pc in campaign.platform_campaigns}:
        values["platform_weights"] = weights
    _read_segments(campaign, values, errors)
    if not values and not errors:
        errors["form"] = _("Nothing changed.")
    return values, errors


def _read_segments(campaign: Any, values: dict[str, Any], errors: dict[str, str]) -> None:
    """The segments ticked, as the ones to add and to remove (nothing if the list was not shown)."""
    if not request.form.get("segments_shown"):
        return
    chosen = {int(s) for s in request.form.getlist("segment_ids") if s.isdigit()}
    current = {segment.id for segment in campaign.segments}
    if chosen == current:
        return
    if not chosen:
        errors["segments"] = _("Keep at least one segment.")
    values["add"], values["remove"] = sorted(chosen - current), sorted(current - chosen)


def _field(name: str) -> str:
    """The form field a service error is about (the segment lists are one field here)."""
    return "segments" if "segment" in name else name
