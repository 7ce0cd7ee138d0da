"""Automation · rules: the rules with their switch and backtest, and the log of what rules and pacing did."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from adflux.services.errors import DomainError
from adflux.services.rules import evaluation, names, pacing, store
from adflux.services.rules.specs import applications_source
from adflux.web.auth import current_session_user, login_required
from adflux.web.formatting import cop, decimal
from adflux.web.views.approvals import pending_count
from adflux.web.views.blueprint import bp

logger = logging.getLogger(__name__)

METRIC_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.METRIC_NAMES.items()}
ACTION_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.ACTION_NAMES.items()}
COUNT_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.COUNT_NAMES.items()}
CPA_MODE_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.CPA_MODE_NAMES.items()}
STATUS_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.DECISION_STATUS_NAMES.items()}
WARNING_LABELS: dict[str, Any] = {code: _l(name) for code, name in names.PACING_WARNING_NAMES.items()}
MONEY = ("spend", "cpa", "cpc")


def rule_text(spec: dict[str, Any]) -> str:
    """ "CPA > $ 30.000 (7 days) and Spend ≥ $ 40.000 (7 days) → Pause"."""
    parts = []
    for c in spec.get("conditions", []):
        value = cop(c["value"]) if c["metric"] in MONEY else decimal(c["value"], 2)
        parts.append(
            _(
                "%(metric)s %(op)s %(value)s (%(days)s days)",
                metric=METRIC_LABELS.get(c["metric"], c["metric"]),
                op=c["op"],
                value=value,
                days=c.get("window", 7),
            )
        )
    joiner = _(" and ") if spec.get("combine", "all") == "all" else _(" or ")
    action = spec.get("action", {})
    label = str(ACTION_LABELS.get(action.get("kind"), action.get("kind")))
    if action.get("percent") is not None:
        label += f" {action['percent']:+g} %"
    elif action.get("amount") is not None:
        label += f" {cop(action['amount'])}"
    return f"{joiner.join(parts)} → {label}"


def evidence_text(evidence: dict[str, Any]) -> str:
    """The numbers behind a decision: 'CPA $ 41.000 (80 %: $ 33.000–$ 52.000) · Spend $ 310.000'."""
    parts = []
    cpa = evidence.get("cpa")
    if "cpa" in evidence:
        text = cop(cpa) if cpa is not None and math.isfinite(cpa) else _("no applications yet")
        if evidence.get("cpa_low") is not None and evidence.get("cpa_high") is not None:
            text += f" ({cop(evidence['cpa_low'])}–{cop(evidence['cpa_high'])})"
        parts.append(f"{_('CPA')} {text}")
    if evidence.get("spend") is not None:
        parts.append(f"{_('Spend')} {cop(evidence['spend'])}")
    if evidence.get("applications_expected") is not None:
        parts.append(
            _("%(num)s applications expected once matured", num=decimal(evidence["applications_expected"], 1))
        )
    return " · ".join(parts)


def _can_act() -> bool:
    principal = current_session_user()
    return principal is not None and principal.has_role("manager")


@bp.get("/rules")
@login_required("viewer")
def rule_list() -> str:
    """Every rule with its conditions, how it reads CPA, its switch and a link to its backtest."""
    rules = store.list_rules()
    return render_template(
        "automation/rules.html",
        rules=rules,
        texts={r.id: rule_text(r.spec) for r in rules},
        cpa_modes={r.id: CPA_MODE_LABELS.get(r.spec.get("cpa_mode", "lag_aware")) for r in rules},
        counts={r.id: COUNT_LABELS[applications_source(r.spec)] for r in rules},
        can_act=_can_act(),
        pending_approvals=pending_count(),
    )


@bp.post("/rules/<int:rule_id>/enabled")
@login_required("manager")
def rule_enable(rule_id: int) -> BaseResponse:
    """Switch a rule on ("1") or off ("0")."""
    wanted = request.form.get("enabled")
    if wanted not in ("0", "1"):
        abort(400)
    rule = store.get_rule(rule_id)
    try:
        store.set_enabled(rule_id=rule.id, enabled=wanted == "1")
    except DomainError as exc:
        flash(_("The rule could not be changed: %(reason)s", reason=exc.message), "error")
    else:
        if wanted == "1":
            flash(_("Rule “%(name)s” is on: it acts after every metrics sync.", name=rule.name), "success")
        else:
            flash(_("Rule “%(name)s” is off.", name=rule.name), "success")
    return redirect(url_for("web.rule_list"))


@bp.get("/rules/<int:rule_id>/backtest")
@login_required("viewer")
def rule_backtest(rule_id: int) -> str:
    """What the rule would have done on a campaign's last days, with late applications matured."""
    rule = store.get_rule(rule_id)
    campaign_id = request.args.get("campaign_id", type=int) or rule.campaign_id
    days = min(90, max(1, request.args.get("days", default=28, type=int) or 28))
    result, error, state, summary = None, None, None, {}
    if campaign_id is not None:
        try:
            result = store.backtest_rule(rule_id=rule.id, campaign_id=campaign_id, days=days)
            state = pacing.pacing_state(campaign_id=campaign_id)
        except DomainError as exc:
            error = exc.message
    if result is not None:
        replay = result.result
        summary = {
            "cpa_before": cop(replay.cpa_before) if math.isfinite(replay.cpa_before) else "—",
            "cpa_after": cop(replay.cpa_after) if math.isfinite(replay.cpa_after) else "—",
        }
    return render_template(
        "automation/rule_backtest.html",
        rule=rule,
        text=rule_text(rule.spec),
        campaign_id=campaign_id,
        days=days,
        summary=summary,
        result=result,
        error=error,
        pacing=state,
        warning_labels=WARNING_LABELS,
        action_labels=ACTION_LABELS,
        evidence_text=evidence_text,
        pending_approvals=pending_count(),
    )


@bp.get("/rules/decisions")
@login_required("viewer")
def rule_decisions() -> str:
    """The decision log: what rules and pacing did, when, to what, and the numbers behind it."""
    campaign_id = request.args.get("campaign_id", type=int)
    decisions = evaluation.decisions_of(campaign_id=campaign_id, limit=200)
    names = {r.id: r.name for r in store.list_rules()}
    return render_template(
        "automation/rule_decisions.html",
        decisions=decisions,
        rule_names=names,
        action_labels=ACTION_LABELS,
        status_labels=STATUS_LABELS,
        evidence_text=evidence_text,
        campaign_id=campaign_id,
        pending_approvals=pending_count(),
    )
