"""A rule's stored JSON spec and the engine's Rule: one validation for every face."""

from __future__ import annotations

from typing import Any

from adflux.catalogue import gettext as _
from adflux.constants import APPLICATIONS_SOURCES
from adflux.optimization.rules import Action, Condition, Rule
from adflux.optimization.templates import TEMPLATES, template
from adflux.services.errors import ValidationFailed

SPEC_KEYS = {
    "conditions",
    "combine",
    "action",
    "cooldown_days",
    "max_change_per_day",
    "cpa_mode",
    "confidence",
    "applications_source",
}
DEFAULT_APPLICATIONS_SOURCE = "platform"


def applications_source(spec: dict[str, Any]) -> str:
    """Which applications the rule counts: "platform" (default) or "first_hand"."""
    return str(spec.get("applications_source") or DEFAULT_APPLICATIONS_SOURCE)


def spec_of(rule: Rule) -> dict[str, Any]:
    """The engine rule as its stored JSON spec."""
    action: dict[str, Any] = {"kind": rule.action.kind}
    if rule.action.percent is not None:
        action["percent"] = rule.action.percent
    if rule.action.amount is not None:
        action["amount"] = rule.action.amount
    return {
        "conditions": [
            {"metric": c.metric, "op": c.op, "value": c.value, "window": c.window} for c in rule.conditions
        ],
        "combine": rule.combine,
        "action": action,
        "cooldown_days": rule.cooldown_days,
        "max_change_per_day": rule.max_change_per_day,
        "cpa_mode": rule.cpa_mode,
        "confidence": rule.confidence,
    }


def rule_of(name: str, level: str, spec: dict[str, Any]) -> Rule:
    """The engine rule for a stored spec (raises ValidationFailed saying what is wrong)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValidationFailed(_("Unknown rule fields: %(value)s", value=", ".join(sorted(unknown))))
    if applications_source(spec) not in APPLICATIONS_SOURCES:
        raise ValidationFailed(
            _("applications_source must be one of %(value)s", value=", ".join(APPLICATIONS_SOURCES)),
            errors={"applications_source": [_("unknown source")]},
        )
    try:
        conditions = tuple(
            Condition(str(c["metric"]), str(c["op"]), float(c["value"]), int(c.get("window", 7)))
            for c in spec.get("conditions") or []
        )
        raw_action = spec.get("action") or {}
        action = Action(
            str(raw_action.get("kind")),
            percent=None if raw_action.get("percent") is None else float(raw_action["percent"]),
            amount=None if raw_action.get("amount") is None else int(raw_action["amount"]),
        )
        return Rule(
            name=name,
            conditions=conditions,
            action=action,
            combine=str(spec.get("combine", "all")),
            level=level,
            cooldown_days=int(spec.get("cooldown_days", 3)),
            max_change_per_day=float(spec.get("max_change_per_day", 0.5)),
            cpa_mode=str(spec.get("cpa_mode", "lag_aware")),
            confidence=float(spec.get("confidence", 0.8)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValidationFailed(_("Invalid rule: %(error)s", error=error)) from None


def template_spec(name: str, target_cpa: int | None) -> tuple[str, dict[str, Any]]:
    """The level and spec of a template for a campaign with that target CPA."""
    if name not in TEMPLATES:
        raise ValidationFailed(
            _("Unknown template %(name)r (one of %(TEMPLATES)s)", name=name, TEMPLATES=", ".join(TEMPLATES))
        )
    if not target_cpa and name != "end_of_flight":
        raise ValidationFailed(_("The %(name)s template needs a campaign with a target CPA", name=name))
    rule = template(name, float(target_cpa or 1))
    return rule.level, spec_of(rule)
