"""A campaign's budget allocation: its switch and limits, the moves explained, and the policy comparison."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from adflux.services import campaigns as campaigns_service
from adflux.services.allocation import comparison, daily, settings
from adflux.services.allocation.history import campaign_groups
from adflux.services.autocommit_reads import reads_only
from adflux.services.errors import DomainError
from adflux.web.auth import current_session_user, login_required
from adflux.web.formatting import cop
from adflux.web.views.approvals import pending_count
from adflux.web.views.blueprint import bp

POLICY_LABELS: dict[str, Any] = {
    "even": _l("Even split (today's behaviour)"),
    "weights": _l("Platform weights"),
    "frozen": _l("Last week's split, fixed"),
}
STATUS_LABELS: dict[str, Any] = {
    "applied": _l("Applied"),
    "failed": _l("Failed"),
    "unchanged": _l("Unchanged"),
    "pending": _l("Pending"),
}


def move_text(entry: Any, labels: dict[int, str]) -> str:
    """One move in the reader's language: 'TikTok · Operativos: +$ 40.000/día, CPA $ 5.100 frente a ...'."""
    delta = entry.budget_after - entry.budget_before
    if not delta:
        return ""
    group = labels.get(entry.ad_group_id, f"#{entry.ad_group_id}")
    other = labels.get(entry.compared_ad_group_id or 0, "—").split(" · ")[0]
    values = {
        "group": group,
        "delta": cop(abs(delta)),
        "cpa": cop(entry.expected_cpa) if entry.expected_cpa else "—",
        "other_cpa": cop(entry.compared_cpa) if entry.compared_cpa else "—",
        "other": other,
    }
    if delta > 0:
        return _("%(group)s: +%(delta)s/day, CPA %(cpa)s vs %(other_cpa)s on %(other)s", **values)
    return _("%(group)s: −%(delta)s/day, CPA %(cpa)s vs %(other_cpa)s on %(other)s", **values)


def campaign_moves(campaign: Any, limit: int = 8) -> tuple[list[Any], dict[int, str]]:
    """The campaign's latest moves (budget changed) and its ad groups' labels, for the campaign page."""
    entries = [e for e in daily.log(campaign_id=campaign.id, limit=200) if e.budget_after != e.budget_before]
    if not entries:  # the labels name the moves' ad groups: none to name, nothing to read
        return [], {}
    return entries[:limit], {g.ad_group_id: g.label for g in campaign_groups(campaign)}


@bp.get("/campaigns/<int:campaign_id>/allocation")
@reads_only  # (above the sign-in check: the user's read needs no transaction either)
@login_required("viewer")
def campaign_allocation(campaign_id: int) -> str:
    """Settings, the allocation log and the off-policy comparison of other splits."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    state = settings.get_settings(campaign_id=campaign_id)
    entries = daily.log(campaign_id=campaign_id, limit=120)
    labels = {g.ad_group_id: g.label for g in campaign_groups(campaign)}
    result = comparison.compare_policies(campaign_id=campaign_id)
    principal = current_session_user()
    return render_template(
        "campaigns/allocation.html",
        campaign=campaign,
        state=state,
        entries=entries,
        labels=labels,
        move_text=move_text,
        result=result,
        policy_labels=POLICY_LABELS,
        status_labels=STATUS_LABELS,
        can_act=principal is not None and principal.has_role("manager"),
        pending_approvals=pending_count(),
    )


def _share(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw) / 100
    except ValueError:
        return -1.0  # refused by the service's range check with a message


@bp.post("/campaigns/<int:campaign_id>/allocation")
@login_required("manager")
def campaign_allocation_save(campaign_id: int) -> BaseResponse:
    """Switch the allocator on or off and set its limits (percentages of the daily budget)."""
    principal = current_session_user()
    try:
        state = settings.configure(
            campaign_id=campaign_id,
            enabled=request.form.get("enabled") == "1",
            min_share=_share("min_share"),
            max_move=_share("max_move"),
            explore=_share("explore"),
            actor=getattr(principal, "email", None),
        )
    except DomainError as exc:
        flash(_("The allocation could not be changed: %(reason)s", reason=exc.message), "error")
    else:
        if state.enabled:
            flash(_("Budget allocation is on: budgets move every morning within your limits."), "success")
        else:
            flash(_("Budget allocation is off: the budget stays split as it is."), "success")
    return redirect(url_for("web.campaign_allocation", campaign_id=campaign_id))
