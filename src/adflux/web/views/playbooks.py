"""Automation · playbooks: the campaign policies in the order they are tried, switching them on or
off, and a dry run of what one would launch for the openings that are open now."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import JOB_CATEGORY_LABELS, MODALITY_LABELS, PLATFORM_LABELS
from adflux.services.errors import DomainError
from adflux.services.feeds.fields import category_code, fold
from adflux.services.playbooks import planning
from adflux.services.playbooks import registry as playbooks_service
from adflux.web.auth import current_session_user, login_required
from adflux.web.formatting import cop
from adflux.web.views.approvals import pending_count
from adflux.web.views.blueprint import bp

logger = logging.getLogger(__name__)

DRY_RUN_LIMIT = 50
LIST_CONDITION_LABELS: dict[str, Any] = {
    "categories": _l("Category"),
    "cities": _l("City"),
    "departments": _l("Department"),
    "companies": _l("Company"),
    "modalities": _l("Modality"),
    "keywords": _l("Keywords"),
}


def _list_values(name: str, values: list[str]) -> list[str]:
    """Category and modality codes as their labels; cities and companies as written."""
    if name == "categories":
        return [JOB_CATEGORY_LABELS.get(category_code(v) or "", v) for v in values]
    if name == "modalities":
        return [MODALITY_LABELS.get(fold(v), v) for v in values]
    if name == "keywords":
        return [f"«{v}»" for v in values]
    return list(values)


def conditions_text(conditions: dict[str, Any]) -> str:
    """ "Category: Health · City: Bogotá D.C. · Salary from $ 2.000.000" (empty: every opening)."""
    parts = [
        f"{LIST_CONDITION_LABELS[name]}: {', '.join(_list_values(name, conditions[name]))}"
        for name in LIST_CONDITION_LABELS
        if conditions.get(name)
    ]
    if conditions.get("salary_min") is not None:
        parts.append(_("Salary from %(amount)s", amount=cop(conditions["salary_min"])))
    if conditions.get("salary_max") is not None:
        parts.append(_("Salary up to %(amount)s", amount=cop(conditions["salary_max"])))
    if conditions.get("experience_min") is not None:
        years = conditions["experience_min"]
        parts.append(
            ngettext("At least %(num)s year of experience", "At least %(num)s years of experience", years)
        )
    if conditions.get("experience_max") is not None:
        years = conditions["experience_max"]
        parts.append(
            ngettext("At most %(num)s year of experience", "At most %(num)s years of experience", years)
        )
    return " · ".join(parts) if parts else _("Every opening")


def flight_text(days: int | None) -> str:
    if not days:
        return _("until the opening closes")
    return ngettext("%(num)s day", "%(num)s days", days)


def audience_text(playbook: Any) -> str:
    if playbook.segment_ids:
        return ngettext("%(num)s chosen segment", "%(num)s chosen segments", len(playbook.segment_ids))
    if playbook.best_segments:
        return ngettext(
            "the best segment for the category",
            "the best %(num)s segments for the category",
            playbook.best_segments,
        )
    return _("broad audience")


def _can_act() -> bool:
    principal = current_session_user()
    return principal is not None and principal.has_role("manager")


@bp.get("/playbooks")
@login_required("viewer")
def playbook_list() -> str:
    """Every playbook in the order openings meet them, what each launches, and its switch."""
    playbooks = playbooks_service.list_playbooks()
    return render_template(
        "automation/playbooks.html",
        playbooks=playbooks,
        conditions={p.id: conditions_text(p.conditions or {}) for p in playbooks},
        flights={p.id: flight_text(p.flight_days) for p in playbooks},
        audiences={p.id: audience_text(p) for p in playbooks},
        platform_labels=PLATFORM_LABELS,
        can_act=_can_act(),
        pending_approvals=pending_count(),
    )


@bp.post("/playbooks/<int:playbook_id>/enabled")
@login_required("manager")
def playbook_enable(playbook_id: int) -> BaseResponse:
    """Switch a playbook on ("1") or off ("0"), then back to the list."""
    wanted = request.form.get("enabled")
    if wanted not in ("0", "1"):
        abort(400)
    playbook = playbooks_service.get_playbook(playbook_id=playbook_id)  # NotFound → the 404 page
    try:
        playbooks_service.set_enabled(playbook_id=playbook.id, enabled=wanted == "1")
    except DomainError as exc:
        flash(_("The playbook could not be changed: %(reason)s", reason=exc.message), "error")
        logger.info("dashboard: switching playbook %s refused: %s", playbook_id, exc.message)
    else:
        if wanted == "1":
            flash(_("Playbook “%(name)s” is on: it takes new openings.", name=playbook.name), "success")
        else:
            flash(_("Playbook “%(name)s” is off: it takes no new openings.", name=playbook.name), "success")
    return redirect(url_for("web.playbook_list"))


@bp.get("/playbooks/<int:playbook_id>/dry-run")
@login_required("viewer")
def playbook_dry_run(playbook_id: int) -> str:
    """What the playbook would launch for the openings open now (nothing is created)."""
    playbook = playbooks_service.get_playbook(playbook_id=playbook_id)
    result = planning.dry_run(playbook_id=playbook.id, limit=DRY_RUN_LIMIT)
    summary = (
        result["playbooks"][0] if result["playbooks"] else {"openings": 0, "budget_total": 0, "skipped": 0}
    )
    return render_template(
        "automation/dry_run.html",
        playbook=playbook,
        conditions=conditions_text(playbook.conditions or {}),
        summary=summary,
        openings=result["openings"],
        limit=DRY_RUN_LIMIT,
        platform_labels=PLATFORM_LABELS,
        pending_approvals=pending_count(),
    )
