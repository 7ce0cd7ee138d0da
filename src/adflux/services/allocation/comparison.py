"""Policy comparison: what other splits would have bought on the days the allocator ran.

One method with the benchmark (`bench/bench_off_policy.py`): the engine's
:func:`adflux.optimization.off_policy.compare_splits` pools the campaigns the allocator ran (the
MAX_CAMPAIGNS allocated most recently, this one among them), each with its allocation log (every
ad group-day's level and propensity), the applications those days bought (as reported, corrected
for the lag) and its ad groups' learned curves, and scores fixed-split policies the allocator
never ran — the even split (today's behaviour), the manager's platform weights, and each
campaign's own last week of shares frozen — against what the allocator really bought. The 95 %
interval resamples whole campaigns; with fewer than MIN_CAMPAIGNS allocated campaigns there is no
interval (the estimates are points, and the comparison says why) rather than an interval
resampled by day, which would claim more certainty than one campaign's days hold. Each campaign's
own part of the pooled estimates is shown beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import func, select

from adflux.catalogue import gettext as _
from adflux.catalogue import ngettext
from adflux.extensions import db
from adflux.models import AllocationEntry, Campaign, MetricDaily, PlatformCampaign
from adflux.optimization.allocation_model import posteriors
from adflux.optimization.off_policy import (
    MIN_CAMPAIGNS,
    CampaignLog,
    Estimate,
    compare_splits,
    frozen_shares,
)
from adflux.services import local_dates
from adflux.services.allocation.history import campaign_groups, group_histories, portal_priors
from adflux.services.errors import NotFound
from adflux.services.rules.panels import portfolio_lag_cdf

POLICIES = ("even", "weights", "frozen")
MAX_CAMPAIGNS = 50


@dataclass(frozen=True)
class PolicyEstimate:
    """One policy's estimated applications over the pooled campaigns, and this campaign's part."""

    policy: str
    ips: Estimate
    dr: Estimate
    campaign_ips: float
    campaign_dr: float


@dataclass(frozen=True)
class Comparison:
    """The allocator's logged result beside each policy's estimate, pooled over campaigns."""

    campaign_id: int
    days: int  # this campaign's allocated days
    entries: int  # this campaign's logged ad group-days
    campaigns: int  # allocated campaigns pooled
    pooled_entries: int
    logged: Estimate | None  # pooled
    campaign_logged: float | None
    policies: list[PolicyEstimate]
    has_interval: bool
    note: str | None  # why there is no interval, in the user's language


@dataclass(frozen=True)
class _Logged:
    campaign_id: int
    log: CampaignLog
    entries: list[AllocationEntry]
    groups: list[int]


def _log(campaign_id: int, today: date) -> list[AllocationEntry]:
    return list(
        db.session.scalars(
            select(AllocationEntry)
            .where(AllocationEntry.campaign_id == campaign_id, AllocationEntry.day < today)
            .order_by(AllocationEntry.day, AllocationEntry.ad_group_id)
        )
    )


def _allocated_campaigns(campaign_id: int, today: date) -> list[int]:
    """This campaign and the other campaigns allocated most recently (MAX_CAMPAIGNS in all)."""
    last = func.max(AllocationEntry.day)
    rows = db.session.execute(
        select(AllocationEntry.campaign_id)
        .where(AllocationEntry.day < today, AllocationEntry.campaign_id != campaign_id)
        .group_by(AllocationEntry.campaign_id)
        .order_by(last.desc(), AllocationEntry.campaign_id)
        .limit(MAX_CAMPAIGNS - 1)
    ).all()
    return [campaign_id, *(row[0] for row in rows)]


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


def _campaign_log(campaign: Campaign, today: date) -> _Logged | None:
    """The campaign's allocation log with its ad groups' learned curves (None without a log)."""
    infos = {g.ad_group_id: g for g in campaign_groups(campaign)}
    entries = [e for e in _log(campaign.id, today) if e.ad_group_id in infos]
    if not entries:
        return None
    groups = sorted({e.ad_group_id for e in entries})
    known = [infos[g] for g in groups]
    curves = posteriors(
        group_histories(campaign, known, today), [g.key for g in known], portal_priors(campaign, today)
    )
    index = {g: i for i, g in enumerate(groups)}
    log = CampaignLog(
        np.array([index[e.ad_group_id] for e in entries], np.int64),
        np.array([e.day.toordinal() for e in entries], np.int64),
        np.array([e.budget_after for e in entries], float),
        np.array([e.share_level for e in entries], np.int64),
        np.array([e.propensity for e in entries], float),
        _rewards(campaign.id, entries, today),
        curves,
    )
    return _Logged(campaign.id, log, entries, groups)


def _shares(logged: _Logged, policy: str) -> np.ndarray:
    n = len(logged.groups)
    if policy == "even":
        return np.full(n, 1 / n)
    if policy == "frozen":
        return frozen_shares(logged.log)
    weight = {pc.id: pc.budget_weight for pc in db.session.scalars(
        select(PlatformCampaign).where(PlatformCampaign.campaign_id == logged.campaign_id))}  # fmt: skip
    by_group = {e.ad_group_id: e.platform_campaign_id for e in logged.entries}
    per_pc: dict[int, int] = {}
    for g in logged.groups:
        per_pc[by_group[g]] = per_pc.get(by_group[g], 0) + 1
    raw = np.array([weight.get(by_group[g], 1.0) / per_pc[by_group[g]] for g in logged.groups])
    return raw / raw.sum()


def _note(campaigns: int) -> str:
    return ngettext(
        "Only %(count)s campaign has been allocated: the interval resamples whole campaigns and needs "
        "at least %(minimum)s, so these are point estimates without an interval.",
        "Only %(count)s campaigns have been allocated: the interval resamples whole campaigns and needs "
        "at least %(minimum)s, so these are point estimates without an interval.",
        campaigns,
        count=campaigns,
        minimum=MIN_CAMPAIGNS,
    )


def compare_policies(*, campaign_id: int, today: date | None = None) -> Comparison:
    """The off-policy estimates of each fixed-split policy, pooled over the allocated campaigns."""
    today = today or local_dates.today()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    own = _campaign_log(campaign, today)
    if own is None:
        return Comparison(campaign_id, 0, 0, 0, 0, None, None, [], False, None)
    pooled = [own]
    for other_id in _allocated_campaigns(campaign_id, today)[1:]:
        other = db.session.get(Campaign, other_id)
        logged = _campaign_log(other, today) if other is not None else None
        if logged is not None:
            pooled.append(logged)
    pooled.sort(key=lambda p: p.campaign_id)  # the same pool in the same order from every campaign
    mine = [p.campaign_id for p in pooled].index(campaign_id)
    result = compare_splits(
        [p.log for p in pooled], {policy: [_shares(p, policy) for p in pooled] for policy in POLICIES}
    )
    policies = [
        PolicyEstimate(e.policy, e.ips, e.dr, e.ips_by_campaign[mine], e.dr_by_campaign[mine])
        for e in result.policies
    ]
    return Comparison(
        campaign_id,
        len({e.day for e in own.entries}),
        len(own.entries),
        result.campaigns,
        result.entries,
        result.logged,
        result.logged_by_campaign[mine],
        policies,
        result.has_interval,
        None if result.has_interval else _note(result.campaigns),
    )
