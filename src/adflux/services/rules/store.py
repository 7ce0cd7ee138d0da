"""Rules as people manage them: add (from a template or a spec), list, enable, disable, backtest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Campaign, Rule
from adflux.optimization.backtest import BacktestResult, backtest
from adflux.optimization.rules import LEVELS
from adflux.services import audit, local_dates
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.rules.panels import campaign_panel, portfolio_lag_cdf
from adflux.services.rules.specs import applications_source, rule_of, template_spec

MAX_BACKTEST_DAYS = 90


def add_rule(
    *,
    name: str,
    campaign_id: int | None = None,
    template: str | None = None,
    level: str | None = None,
    spec: dict[str, Any] | None = None,
    applications_source: str | None = None,
    actor: str | None = None,
) -> Rule:
    """Store a new rule, disabled (backtest it, then enable it); `applications_source` says which
    applications it counts ("platform", the default, or "first_hand")."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_("A rule needs a name of 1 to 120 characters"))
    campaign = None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(_("Campaign %(campaign_id)s not found", campaign_id=campaign_id))
    if template:
        if campaign is None:
            raise ValidationFailed(_("A template is sized from a campaign's target CPA: give the campaign"))
        level, spec = template_spec(template, campaign.target_cpa)
    if spec is None:
        raise ValidationFailed(_("Give a template or a rule spec"))
    if applications_source is not None:
        spec = {**spec, "applications_source": applications_source}
    level = level or "ad_group"
    if level not in LEVELS:
        raise ValidationFailed(
            _("Unknown level %(level)r (one of %(LEVELS)s)", level=level, LEVELS=", ".join(LEVELS))
        )
    engine_rule = rule_of(name, level, spec)
    if engine_rule.cooldown_days < 1:
        raise ValidationFailed(_("A rule's cooldown is at least one day (it is evaluated after every sync)"))
    rule = Rule(
        name=name,
        campaign_id=campaign_id,
        template=template,
        level=level,
        spec=spec,
        enabled=False,
        created_by=actor,
    )
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "rules.add",
        entity_type="rule",
        entity_id=rule.id,
        after={"name": name, "campaign_id": campaign_id, "template": template, "spec": spec},
    )
    db.session.commit()
    return rule


def get_rule(rule_id: int) -> Rule:
    """One rule (NotFound if there is none)."""
    rule = db.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(_("Rule %(rule_id)s not found", rule_id=rule_id))
    return rule


def list_rules(*, campaign_id: int | None = None) -> list[Rule]:
    """Rules, optionally those that apply to one campaign (its own and the global ones)."""
    query = select(Rule).order_by(Rule.id)
    if campaign_id is not None:
        query = query.where((Rule.campaign_id == campaign_id) | Rule.campaign_id.is_(None))
    return list(db.session.execute(query).scalars())


def set_enabled(*, rule_id: int, enabled: bool) -> Rule:
    """Enable or disable a rule."""
    rule = get_rule(rule_id)
    before = {"enabled": rule.enabled}
    rule.enabled = enabled
    audit.record(
        "rules.enable" if enabled else "rules.disable",
        entity_type="rule",
        entity_id=rule_id,
        before=before,
        after={"enabled": enabled},
    )
    db.session.commit()
    return rule


@dataclass(frozen=True)
class CampaignBacktest:
    """A rule's replay on one campaign, with the entity ids of each decision."""

    campaign_id: int
    days: int
    result: BacktestResult
    entity_ids: list[dict[str, int | None]]
    first_day: date  # the date of the panel's first column (decisions count days from it)
    campaign_name: str = ""

    def decision_day(self, column: int) -> date:
        """The date of a replayed decision."""
        return self.first_day + timedelta(days=column)


def backtest_rule(
    *,
    rule_id: int | None = None,
    campaign_id: int,
    days: int = 28,
    spec: dict[str, Any] | None = None,
    level: str = "ad_group",
    today: date | None = None,
) -> CampaignBacktest:
    """Replay a stored rule (or an unsaved spec) on the campaign's last ``days`` days, lag matured."""
    if not 1 <= days <= MAX_BACKTEST_DAYS:
        raise ValidationFailed(
            _("A backtest covers 1 to %(max_backtest_days)s days", max_backtest_days=MAX_BACKTEST_DAYS)
        )
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s not found", campaign_id=campaign_id))
    if rule_id is not None:
        stored = get_rule(rule_id)
        engine_rule = rule_of(stored.name, stored.level, stored.spec)
        source = applications_source(stored.spec)
    elif spec is not None:
        engine_rule = rule_of("backtest", level, spec)
        source = applications_source(spec)
    else:
        raise ValidationFailed(_("Give a rule or a rule spec to backtest"))
    today = today or local_dates.today()
    windows = max(c.window for c in engine_rule.conditions)
    history = days + windows + 1
    panel, entities = campaign_panel(
        campaign_id, today=today, days=history, level=engine_rule.level, applications=source
    )
    if not entities.budgets:
        raise ValidationFailed(_("The campaign has no ad groups with history to replay"))
    try:
        result = backtest(
            engine_rule, panel, portfolio_lag_cdf(today=today), days, np.array(entities.budgets)
        )
    except ValueError as error:  # e.g. pacing conditions, which have no history to replay
        raise ValidationFailed(_("Cannot backtest this rule: %(error)s", error=error)) from None
    ids = [
        {"ad_group_id": g, "platform_campaign_id": p}
        for g, p in zip(entities.ad_group_ids, entities.platform_campaign_ids, strict=True)
    ]
    return CampaignBacktest(campaign_id, days, result, ids, today - timedelta(days=history), campaign.name)
