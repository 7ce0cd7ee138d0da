"""Evaluate enabled rules on each live campaign's metrics and act, logging every decision."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import or_, select

from adflux.catalogue import gettext as _
from adflux.constants import TASK_EVALUATE_OPTIMIZATION
from adflux.extensions import db
from adflux.models import Campaign, OptimizationDecision, Rule
from adflux.models.base import utcnow
from adflux.optimization.rules import Decision, Panel, decide, evaluate
from adflux.services import audit, local_dates, task_queue
from adflux.services.errors import NotFound
from adflux.services.rules import actuators, notices
from adflux.services.rules.panels import Entities, campaign_panel, portfolio_lag_cdf
from adflux.services.rules.specs import applications_source, rule_of

logger = logging.getLogger(__name__)

LIVE = ("active", "partially_active", "paused", "partially_paused")
ACTOR = "rules"


def _history_days(spec: dict) -> int:
    return max([int(c.get("window", 7)) for c in spec.get("conditions", [])] + [7]) + 1


def _days_since_action(campaign_id: int, entities: Entities, today: date) -> np.ndarray:
    """Per entity: days since a rule last decided on it (cooldowns count these)."""
    since = np.full(len(entities.ad_group_ids), 10_000)
    rows = db.session.execute(
        select(OptimizationDecision)
        .where(OptimizationDecision.campaign_id == campaign_id, OptimizationDecision.source == "rule")
        .order_by(OptimizationDecision.decided_at)
    ).scalars()
    for row in rows:
        for i, (group, pc) in enumerate(
            zip(entities.ad_group_ids, entities.platform_campaign_ids, strict=True)
        ):
            if row.ad_group_id == group and row.platform_campaign_id == pc:
                since[i] = (today - row.day).days
    return since


def _delivering(campaign: Campaign, entities: Entities) -> np.ndarray:
    """Per entity: is it switched on (an ad group, or any ad group of a platform campaign)."""
    groups = [(g, pc) for pc in campaign.platform_campaigns for g in pc.ad_groups]
    on_groups = {g.id for g, _ in groups if g.status == "active"}
    on_pcs = {pc.id for g, pc in groups if g.status == "active"}
    if entities.level == "ad_group":
        return np.array([group in on_groups for group in entities.ad_group_ids], bool)
    return np.array([pc in on_pcs for pc in entities.platform_campaign_ids], bool)


def _extras(campaign: Campaign, today: date, size: int) -> dict[str, np.ndarray]:
    from adflux.services.rules.pacing import pacing_state

    state = pacing_state(campaign_id=campaign.id, today=today)
    return {"pacing": np.full(size, state.plan.pace), "days_left": np.full(size, state.plan.days_left)}


def evaluate_campaign(*, campaign_id: int, today: date | None = None) -> list[OptimizationDecision]:
    """Run every enabled rule that applies to the campaign; act and log (the caller's transaction)."""
    today = today or local_dates.today()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in LIVE:
        return []
    rules = list(
        db.session.execute(
            select(Rule)
            .where(Rule.enabled.is_(True), or_(Rule.campaign_id == campaign_id, Rule.campaign_id.is_(None)))
            .order_by(Rule.id)
        ).scalars()
    )
    if not rules:
        return []
    cdf = portfolio_lag_cdf(today=today)
    logged = []
    for stored in rules:
        entities, decisions = _decisions(stored, campaign, today, cdf)
        logged += [_act(stored, campaign, entities, decision, today) for decision in decisions]
        stored.last_evaluated_at = utcnow()
    return logged


def _decisions(
    stored: Rule, campaign: Campaign, today: date, cdf: np.ndarray
) -> tuple[Entities, list[Decision]]:
    """What one rule decides on one campaign today: its panel, lag-corrected, through the engine."""
    engine_rule = rule_of(stored.name, stored.level, stored.spec)
    panel, entities = campaign_panel(
        campaign.id,
        today=today,
        days=_history_days(stored.spec),
        level=stored.level,
        applications=applications_source(stored.spec),
    )
    if not entities.budgets:
        return entities, []
    panel = Panel(
        panel.spend,
        panel.impressions,
        panel.clicks,
        panel.reach,
        panel.applications,
        panel.ages,
        _extras(campaign, today, len(entities.budgets)),
    )
    since = _days_since_action(campaign.id, entities, today)
    if stored.level == "campaign":
        active = np.full(len(entities.budgets), campaign.status in ("active", "partially_active"))
    else:
        active = _delivering(campaign, entities)
    decisions = decide(
        engine_rule,
        evaluate(engine_rule, panel, cdf),
        active=active,
        budgets=np.array(entities.budgets),
        days_since_action=since,
    )
    if stored.level == "ad_group":  # a group whose segment was removed is not the rules' to resume
        removed = {g.id for pc in campaign.platform_campaigns for g in pc.ad_groups if g.status == "removed"}
        decisions = [d for d in decisions if entities.ad_group_ids[d.entity] not in removed]
    return entities, decisions


def _act(
    rule: Rule, campaign: Campaign, entities: Entities, decision: Decision, today: date
) -> OptimizationDecision:
    i = decision.entity
    ad_group_id, pc_id = entities.ad_group_ids[i], entities.platform_campaign_ids[i]
    reason = f"regla «{rule.name}»"
    if decision.kind == "budget":
        if pc_id is None:
            outcome = actuators.Outcome("failed", "budget actions apply to ad groups or platform campaigns")
        else:
            outcome = actuators.set_daily_budget(
                platform_campaign_id=pc_id,
                ad_group_id=ad_group_id,
                daily_budget=decision.budget_after,
                reason=reason,
                actor=ACTOR,
            )
    elif decision.kind in ("pause", "resume"):
        outcome = actuators.pause_or_resume(
            campaign_id=campaign.id,
            kind=decision.kind,
            level=rule.level,
            ad_group_id=ad_group_id,
            platform_campaign_id=pc_id,
            reason=reason,
        )
    else:
        outcome = notices.send_notice(
            rule_name=rule.name,
            campaign=campaign,
            ad_group_id=ad_group_id,
            platform_campaign_id=pc_id,
            evidence=decision.evidence,
            window=max([int(c.get("window", 7)) for c in rule.spec.get("conditions", [])] or [7]),
        )
    row = OptimizationDecision(
        day=today,
        rule_id=rule.id,
        source="rule",
        campaign_id=campaign.id,
        platform_campaign_id=pc_id,
        ad_group_id=ad_group_id,
        action=decision.kind,
        status=outcome.status,
        budget_before=decision.budget_before,
        budget_after=decision.budget_after,
        evidence={k: (None if not np.isfinite(v) else round(v, 4)) for k, v in decision.evidence.items()},
        message=outcome.message,
    )
    db.session.add(row)
    audit.record(
        f"rules.{decision.kind}",
        entity_type="campaign",
        entity_id=campaign.id,
        after={
            "rule": rule.name,
            "ad_group_id": ad_group_id,
            "platform_campaign_id": pc_id,
            "status": outcome.status,
            "budget_after": decision.budget_after,
            **row.evidence,
        },
    )
    logger.info(
        "rule %s %s campaign %s entity %s: %s", rule.id, decision.kind, campaign.id, i, outcome.status
    )
    return row


def queue_after_sync() -> None:
    """Queue rules and pacing to run on the numbers a metrics sync just wrote."""
    task_queue.send(TASK_EVALUATE_OPTIMIZATION, queue="automation")


def evaluate_all(*, today: date | None = None) -> int:
    """After a metrics sync: evaluate every live campaign, one transaction each; decisions taken."""
    ids = db.session.execute(select(Campaign.id).where(Campaign.status.in_(LIVE))).scalars().all()
    taken = 0
    for campaign_id in ids:
        try:
            taken += len(evaluate_campaign(campaign_id=campaign_id, today=today))
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("rules on campaign %s failed", campaign_id)
    return taken


def decisions_of(
    *,
    campaign_id: int | None = None,
    rule_id: int | None = None,
    limit: int = 200,
    since: datetime | None = None,
) -> list[OptimizationDecision]:
    """The decision log, newest first."""
    query = select(OptimizationDecision).order_by(OptimizationDecision.decided_at.desc()).limit(limit)
    if campaign_id is not None:
        query = query.where(OptimizationDecision.campaign_id == campaign_id)
    if rule_id is not None:
        query = query.where(OptimizationDecision.rule_id == rule_id)
    if since is not None:
        query = query.where(OptimizationDecision.decided_at >= since - timedelta(0))
    return list(db.session.execute(query).scalars())


def run_after_sync(*, today: date | None = None) -> dict[str, int]:
    """Pacing first (so rules see today's plan), then rules, on every live campaign."""
    from adflux.models import CampaignPacing
    from adflux.services.rules.pacing import apply_pacing

    paced = (
        db.session.execute(
            select(CampaignPacing.campaign_id)
            .join(Campaign, Campaign.id == CampaignPacing.campaign_id)
            .where(CampaignPacing.enabled.is_(True), Campaign.status.in_(LIVE))
        )
        .scalars()
        .all()
    )
    budget_changes = 0
    for campaign_id in paced:
        try:
            budget_changes += len(apply_pacing(campaign_id=campaign_id, today=today))
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("pacing campaign %s failed", campaign_id)
    return {
        "paced": len(paced),
        "pacing_changes": budget_changes,
        "rule_decisions": evaluate_all(today=today),
    }


def preview(*, rule_id: int, campaign_id: int, today: date | None = None) -> list[dict[str, object]]:
    """What the rule would do on the campaign today, without doing it (``adflux rules test``)."""
    today = today or local_dates.today()
    stored = db.session.get(Rule, rule_id)
    campaign = db.session.get(Campaign, campaign_id)
    if stored is None or campaign is None:
        raise NotFound(
            _("Rule %(rule_id)s not found", rule_id=rule_id)
            if stored is None
            else _("Campaign %(id)s does not exist", id=campaign_id)
        )
    entities, decisions = _decisions(stored, campaign, today, portfolio_lag_cdf(today=today))
    return [
        {
            "ad_group_id": entities.ad_group_ids[d.entity],
            "platform_campaign_id": entities.platform_campaign_ids[d.entity],
            "action": d.kind,
            "budget_before": d.budget_before,
            "budget_after": d.budget_after,
            "evidence": {k: (v if np.isfinite(v) else None) for k, v in d.evidence.items()},
        }
        for d in decisions
    ]
