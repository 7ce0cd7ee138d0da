"""Policy comparison: what other splits would have bought on the days the allocator ran a campaign.

From the allocation log (each ad group-day's level and propensity) and the applications those
days bought (as reported, corrected for the lag), the engine's IPS and doubly robust estimators
score fixed-split policies the allocator never ran — the even split (today's behaviour), the
manager's platform weights, and the allocator's own last week of shares frozen — against what the
allocator really bought, each with a 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import AllocationEntry, Campaign, MetricDaily, PlatformCampaign
from adflux.optimization.allocation import level_of
from adflux.optimization.allocation_model import posteriors
from adflux.optimization.off_policy import Estimate, LoggedData, evaluate_policy, logged_value
from adflux.services import local_dates
from adflux.services.allocation.history import campaign_groups, group_histories, portal_priors
from adflux.services.errors import NotFound
from adflux.services.rules.panels import portfolio_lag_cdf

POLICIES = ("even", "weights", "frozen")
FROZEN_DAYS = 7


@dataclass(frozen=True)
class PolicyEstimate:
    """One policy's estimated applications over the allocated days."""

    policy: str
    ips: Estimate
    dr: Estimate


@dataclass(frozen=True)
class Comparison:
    """The allocator's logged result beside each policy's estimate."""

    campaign_id: int
    days: int
    entries: int
    logged: Estimate | None
    policies: list[PolicyEstimate]


def _log(campaign_id: int, today: date) -> list[AllocationEntry]:
    return list(
        db.session.scalars(
            select(AllocationEntry)
            .where(AllocationEntry.campaign_id == campaign_id, AllocationEntry.day < today)
            .order_by(AllocationEntry.day, AllocationEntry.ad_group_id)
        )
    )


def _rewards(campaign_id: int, entries: list[AllocationEntry], today: date) -> np.ndarray:
    """Each logged ad group-day's applications, divided by the share of them reported so far."""
    cdf = portfolio_lag_cdf(today=today)
    days = {e.day for e in entries}
    rows = db.session.execute(
        select(MetricDaily.ad_group_id, MetricDaily.date, MetricDaily.applications).where(
            MetricDaily.campaign_id == campaign_id, MetricDaily.date.in_(days)
        )
    ).all()
    found = {(ad_group_id, day): applications for ad_group_id, day, applications in rows}
    out = []
    for e in entries:
        share = float(cdf[min((today - e.day).days, len(cdf) - 1)])
        out.append(found.get((e.ad_group_id, e.day), 0) / max(share, 0.05))
    return np.array(out, float)


def _shares(campaign: Campaign, entries: list[AllocationEntry], groups: list[int], policy: str) -> np.ndarray:
    n = len(groups)
    if policy == "even":
        return np.full(n, 1 / n)
    if policy == "weights":
        weight = {pc.id: pc.budget_weight for pc in db.session.scalars(
            select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign.id))}  # fmt: skip
        per_pc: dict[int, int] = {}
        by_group = {e.ad_group_id: e.platform_campaign_id for e in entries}
        for g in groups:
            per_pc[by_group[g]] = per_pc.get(by_group[g], 0) + 1
        raw = np.array([weight.get(by_group[g], 1.0) / per_pc[by_group[g]] for g in groups])
        return raw / raw.sum()
    last = sorted({e.day for e in entries})[-FROZEN_DAYS:]
    budgets = np.zeros(n)
    for e in entries:
        if e.day in last:
            budgets[groups.index(e.ad_group_id)] += e.budget_after
    return budgets / budgets.sum() if budgets.sum() else np.full(n, 1 / n)


def compare_policies(*, campaign_id: int, today: date | None = None) -> Comparison:
    """The off-policy estimates of each fixed-split policy on the campaign's allocated days."""
    today = today or local_dates.today()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    entries = _log(campaign_id, today)
    if not entries:
        return Comparison(campaign_id, 0, 0, None, [])
    groups = sorted({e.ad_group_id for e in entries})
    infos = {g.ad_group_id: g for g in campaign_groups(campaign)}
    known = [infos[g] for g in groups if g in infos]
    posts = dict(
        zip(
            [g.ad_group_id for g in known],
            posteriors(
                group_histories(campaign, known, today),
                [g.key for g in known],
                portal_priors(campaign, today),
            ),
            strict=True,
        )
    )
    entries = [e for e in entries if e.ad_group_id in posts]
    groups = [g for g in groups if g in posts]
    data = LoggedData(
        np.array([e.day.toordinal() for e in entries], np.int64),  # one cluster per day
        np.array([e.share_level for e in entries], np.int64),
        np.array([e.propensity for e in entries]),
        np.array([e.budget_after for e in entries], float),
        _rewards(campaign_id, entries, today),
    )
    pools = {e.day: e.pool for e in entries}
    at_logged = np.array([float(posts[e.ad_group_id].expected(e.budget_after)[0]) for e in entries])
    estimates = []
    for policy in POLICIES:
        shares = _shares(campaign, entries, groups, policy)
        levels = {day: level_of(shares * pool, np.ones(len(groups), bool)) for day, pool in pools.items()}
        target_level = np.array([levels[e.day][groups.index(e.ad_group_id)] for e in entries], np.int64)
        target_budget = [shares[groups.index(e.ad_group_id)] * e.pool for e in entries]
        at_target = np.array(
            [float(posts[e.ad_group_id].expected(b)[0]) for e, b in zip(entries, target_budget, strict=True)]
        )
        result = evaluate_policy(data, target_level, at_logged, at_target, seed=campaign_id)
        estimates.append(PolicyEstimate(policy, result["ips"], result["dr"]))
    return Comparison(campaign_id, len(pools), len(entries), logged_value(data, seed=campaign_id), estimates)
