"""The daily allocation: split each allocated campaign's daily budget, apply the moves, log them all.

The pool is today's daily budget from pacing when the campaign is paced, else what its ad groups
have now. Every ad group gets a log row (its level and propensity, moved or not) committed
before any budget is sent, so a day is allocated once (running again the same day finds the rows
and does nothing). Moves go to the platforms through the idempotent in-place update path
(``services.campaigns.changes.set_daily_budget``, via the rules' actuators), which audits each
change; the day's allocation is audited as a whole too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import AllocationEntry, Campaign, CampaignAllocation, CampaignPacing
from adflux.optimization.allocation import allocate
from adflux.optimization.allocation_model import posteriors
from adflux.optimization.allocation_moves import MIN_MOVE, Move, explain, moves
from adflux.services import audit, local_dates
from adflux.services.allocation.history import GroupInfo, campaign_groups, group_histories, portal_priors
from adflux.services.allocation.settings import get_settings
from adflux.services.errors import NotFound
from adflux.services.rules import actuators

logger = logging.getLogger(__name__)
LIVE = ("active", "partially_active", "paused", "partially_paused")
RECENT_DAYS = 3


@dataclass(frozen=True)
class DayAllocation:
    """What one campaign's allocation did today (or why it did nothing)."""

    campaign_id: int
    day: date
    skipped: str | None  # disabled | not_live | too_few_ad_groups | already_allocated | no_budget
    entries: list[AllocationEntry]

    @property
    def moved(self) -> list[AllocationEntry]:
        """The entries whose budget changed."""
        return [e for e in self.entries if e.budget_after != e.budget_before]


def _pool(campaign: Campaign, groups: list[GroupInfo], today: date) -> int:
    pacing = db.session.get(CampaignPacing, campaign.id)
    if pacing is not None and pacing.enabled:
        from adflux.services.rules.pacing import pacing_state

        return pacing_state(campaign_id=campaign.id, today=today).plan.daily_budget
    return sum(g.budget for g in groups) or int(campaign.budget_daily or 0)


def _capacity(spend: list[np.ndarray], groups: list[GroupInfo]) -> np.ndarray:
    """Recent spend of ad groups that could not spend their budget lately (others: no cap)."""
    out = np.full(len(groups), np.inf)
    for i, (days, group) in enumerate(zip(spend, groups, strict=True)):
        recent = days[-RECENT_DAYS:]
        if len(recent) == RECENT_DAYS and group.budget and recent.mean() < 0.8 * group.budget:
            out[i] = float(recent.max())
    return out


def _entries(
    campaign: Campaign, groups: list[GroupInfo], today: date, pool: int, plan: dict, found: list[Move]
) -> list[AllocationEntry]:
    by_index = {m.index: m for m in found}
    labels, platforms = [g.label for g in groups], [g.label.split(" · ")[0] for g in groups]
    rows = []
    for i, group in enumerate(groups):
        move = by_index.get(i)
        after = int(plan["budgets"][i]) if move is not None else group.budget
        rows.append(
            AllocationEntry(
                campaign_id=campaign.id,
                day=today,
                ad_group_id=group.ad_group_id,
                platform_campaign_id=group.platform_campaign_id,
                platform=group.platform,
                pool=pool,
                budget_before=group.budget,
                budget_after=after,
                share_level=int(plan["levels"][i]),
                propensity=float(plan["propensities"][i]),
                explored=bool(plan["explored"]),
                expected_cpa=round(move.cpa) if move and move.cpa else plan["cpas"][i],
                compared_ad_group_id=groups[move.other].ad_group_id
                if move and move.other is not None
                else None,
                compared_cpa=round(move.other_cpa) if move and move.other_cpa else None,
                status="pending" if move is not None else "unchanged",
                message=explain(move, labels, platforms) if move is not None else None,
                evidence=plan["evidence"][i],
            )
        )
    return rows


def _plan(campaign: Campaign, groups: list[GroupInfo], today: date, pool: int) -> tuple[dict, list[Move]]:
    settings = get_settings(campaign_id=campaign.id)
    histories = group_histories(campaign, groups, today)
    priors = portal_priors(campaign, today)
    posts = posteriors(histories, [g.key for g in groups], priors)
    previous = np.array([g.budget for g in groups], float)
    rng = np.random.default_rng([campaign.id, today.toordinal()])
    capacity = _capacity([h.spend for h in histories], groups)
    result = allocate(pool, posts, previous, np.ones(len(groups), bool), settings.limits, rng, capacity)
    found = moves(previous, result.budgets, posts)
    evidence = []
    for post, history in zip(posts, histories, strict=True):
        theta, beta = post.mean_curve()
        evidence.append(
            {
                "theta": round(theta, 4),
                "beta": beta,
                "days": len(history.spend),
                "spend": round(float(history.spend.sum())),
                "applications": int(history.applications.sum()),
            }
        )
    cpas = [
        None if not b else round(b / max(float(p.expected(b)[0]), 1e-9))
        for p, b in zip(posts, previous, strict=True)
    ]
    plan = {
        "budgets": result.budgets,
        "levels": result.levels,
        "propensities": result.propensities,
        "explored": result.explored,
        "evidence": evidence,
        "cpas": cpas,
    }
    return plan, [m for m in found if abs(m.delta) >= MIN_MOVE]


def allocate_campaign(*, campaign_id: int, today: date | None = None) -> DayAllocation:
    """Allocate one campaign's budget for ``today`` (Bogotá), once a day."""
    today = today or local_dates.today()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    existing = list(
        db.session.scalars(
            select(AllocationEntry).where(
                AllocationEntry.campaign_id == campaign_id, AllocationEntry.day == today
            )
        )
    )
    if existing:
        return DayAllocation(campaign_id, today, "already_allocated", existing)
    if not get_settings(campaign_id=campaign_id).enabled:
        return DayAllocation(campaign_id, today, "disabled", [])
    if campaign.status not in LIVE:
        return DayAllocation(campaign_id, today, "not_live", [])
    groups = campaign_groups(campaign)
    if len(groups) < 2:
        return DayAllocation(campaign_id, today, "too_few_ad_groups", [])
    pool = _pool(campaign, groups, today)
    if pool <= 0:
        return DayAllocation(campaign_id, today, "no_budget", [])
    plan, found = _plan(campaign, groups, today, pool)
    entries = _entries(campaign, groups, today, pool, plan, found)
    db.session.add_all(entries)
    db.session.commit()  # logged before anything is sent: the day is allocated once
    for entry in entries:
        if entry.status != "pending":
            continue
        outcome = actuators.set_daily_budget(
            platform_campaign_id=entry.platform_campaign_id,
            ad_group_id=entry.ad_group_id,
            daily_budget=entry.budget_after,
            reason=entry.message or "allocation",
            actor="allocation",
        )
        entry.status = outcome.status
        if outcome.status != "applied":
            entry.message = f"{entry.message} ({outcome.message})"
            entry.budget_after = entry.budget_before
    audit.record(
        "allocation.apply",
        entity_type="campaign",
        entity_id=campaign_id,
        after={"day": today.isoformat(), "pool": pool, "moves": [e.message for e in entries if e.message]},
    )
    db.session.commit()
    return DayAllocation(campaign_id, today, None, entries)


def run_daily(*, today: date | None = None) -> dict[str, int]:
    """Allocate every live campaign whose allocation is switched on (the beat task)."""
    ids = db.session.scalars(
        select(CampaignAllocation.campaign_id)
        .join(Campaign, Campaign.id == CampaignAllocation.campaign_id)
        .where(CampaignAllocation.enabled.is_(True), Campaign.status.in_(LIVE))
    ).all()
    allocated = moved = 0
    for campaign_id in ids:
        try:
            day = allocate_campaign(campaign_id=campaign_id, today=today)
        except Exception:
            db.session.rollback()
            logger.exception("allocating campaign %s failed", campaign_id)
            continue
        allocated += day.skipped is None
        moved += len(day.moved)
    return {"campaigns": len(ids), "allocated": allocated, "moves": moved}


def log(*, campaign_id: int, limit: int = 200) -> list[AllocationEntry]:
    """The campaign's allocation log, newest day first, moves before unchanged rows."""
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    return list(
        db.session.scalars(
            select(AllocationEntry)
            .where(AllocationEntry.campaign_id == campaign_id)
            .order_by(AllocationEntry.day.desc(), AllocationEntry.id)
            .limit(limit)
        )
    )
