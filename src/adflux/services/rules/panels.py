"""A campaign's daily metrics as the engine's arrays, and the lag learned from all campaigns' history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import AdGroup, ApplicationEvent, MetricDaily, PlatformCampaign
from adflux.optimization.lag import DEFAULT_HORIZON, estimate_lag_cdf
from adflux.optimization.rules import Panel

LAG_HISTORY_DAYS = 60


@dataclass(frozen=True)
class Entities:
    """Which row of a panel is which ad group (or platform campaign, or the campaign)."""

    level: str
    ad_group_ids: list[int | None]
    platform_campaign_ids: list[int | None]
    budgets: list[int]


def _ad_groups(campaign_id: int) -> list[tuple[AdGroup, PlatformCampaign]]:
    rows = db.session.execute(
        select(AdGroup, PlatformCampaign)
        .join(PlatformCampaign, AdGroup.platform_campaign_id == PlatformCampaign.id)
        .where(PlatformCampaign.campaign_id == campaign_id)
        .order_by(AdGroup.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def campaign_panel(
    campaign_id: int, *, today: date, days: int, level: str = "ad_group", applications: str = "platform"
) -> tuple[Panel, Entities]:
    """The campaign's last ``days`` complete days, one row per entity at ``level``: spend and delivery
    as the platforms report them; applications as reported ("platform") or as the portal's attributed
    postbacks say ("first_hand")."""
    groups = _ad_groups(campaign_id)
    first = today - timedelta(days=days)
    index = {group.id: i for i, (group, _pc) in enumerate(groups)}
    shape = (len(groups), days)
    arrays = {name: np.zeros(shape) for name in ("spend", "impressions", "clicks", "reach", "applications")}
    rows = db.session.execute(
        select(MetricDaily).where(
            MetricDaily.campaign_id == campaign_id, MetricDaily.date >= first, MetricDaily.date < today
        )
    ).scalars()
    for row in rows:
        i = index.get(row.ad_group_id)
        if i is None:
            continue
        j = (row.date - first).days
        arrays["spend"][i, j] = row.spend_micros / 1_000_000
        arrays["impressions"][i, j] = row.impressions
        arrays["clicks"][i, j] = row.clicks
        arrays["reach"][i, j] = row.reach
        arrays["applications"][i, j] = row.applications
    if applications == "first_hand":
        arrays["applications"] = _first_hand(campaign_id, index, first, today, shape)
    ages = np.arange(days, 0, -1)
    budgets = [int(group.budget_daily or pc.budget_daily or 0) for group, pc in groups]
    entities = Entities("ad_group", [g.id for g, _ in groups], [pc.id for _, pc in groups], budgets)
    panel = Panel(
        arrays["spend"],
        arrays["impressions"],
        arrays["clicks"],
        arrays["reach"],
        arrays["applications"],
        ages,
    )
    if level == "ad_group" or not groups:
        return panel, entities
    return _rolled_up(panel, entities, level, [pc for _, pc in groups])


def _first_hand(
    campaign_id: int, index: dict[int, int], first: date, today: date, shape: tuple[int, int]
) -> np.ndarray:
    """Attributed applications (click or UTM) per ad group and Bogotá day, from the postbacks."""
    counts = np.zeros(shape)
    rows = db.session.execute(
        select(ApplicationEvent.ad_group_id, ApplicationEvent.day, func.count())
        .where(
            ApplicationEvent.campaign_id == campaign_id,
            ApplicationEvent.day >= first,
            ApplicationEvent.day < today,
        )
        .group_by(ApplicationEvent.ad_group_id, ApplicationEvent.day)
    )
    for group_id, day, count in rows:
        i = index.get(group_id) if group_id is not None else None
        if i is not None and day is not None:
            counts[i, (day - first).days] = count
    return counts


def _rolled_up(
    panel: Panel, entities: Entities, level: str, pcs: list[PlatformCampaign]
) -> tuple[Panel, Entities]:
    """Sum ad-group rows into platform campaigns (or one campaign row)."""
    keys = [pc.id for pc in pcs] if level == "platform_campaign" else [0] * len(pcs)
    unique = list(dict.fromkeys(keys))
    weights = np.array([[1.0 if key == u else 0.0 for key in keys] for u in unique])

    def roll(values: np.ndarray) -> np.ndarray:
        return weights @ values

    rolled = Panel(
        roll(panel.spend),
        roll(panel.impressions),
        roll(panel.clicks),
        roll(panel.reach),
        roll(panel.applications),
        panel.ages,
    )
    budgets = [int(weights[i] @ np.array(entities.budgets, float)) for i in range(len(unique))]
    pc_ids: list[int | None] = list(unique) if level == "platform_campaign" else [None]
    return rolled, Entities(level, [None] * len(unique), pc_ids, budgets)


def portfolio_lag_cdf(*, today: date) -> np.ndarray:
    """The lag as every campaign's last two months of reports show it (one snapshot, all ad groups)."""
    first = today - timedelta(days=LAG_HISTORY_DAYS)
    rows = db.session.execute(
        select(
            MetricDaily.date,
            func.sum(MetricDaily.spend_micros),
            func.sum(MetricDaily.applications),
        )
        .where(MetricDaily.date >= first, MetricDaily.date < today)
        .group_by(MetricDaily.date)
    ).all()
    if not rows:
        return estimate_lag_cdf(np.zeros(0), np.zeros(0), np.zeros(0, int))
    ages = np.array([(today - row[0]).days for row in rows])
    spend = np.array([float(row[1] or 0) / 1_000_000 for row in rows])
    apps = np.array([float(row[2] or 0) for row in rows])
    return estimate_lag_cdf(spend, apps, ages, horizon=DEFAULT_HORIZON)
