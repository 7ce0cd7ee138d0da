"""Spend control for one campaign: pacing (spent vs budget vs time), target vs actual CPA and the
change of each KPI against the previous period of the same length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.kpis import cpa, ctr
from adflux.models import Campaign, CampaignMetricDaily
from adflux.services.local_dates import today

# KPIs compare the last PERIOD_DAYS with the PERIOD_DAYS before them.
PERIOD_DAYS = 7
KPIS = ("spend", "clicks", "applications", "ctr", "cpa")


@dataclass(frozen=True)
class Pacing:
    """How far a campaign is through its money and its time."""

    spent: int
    budget: int
    spent_share: float
    elapsed_share: float | None  # None for an open-ended campaign
    days_left: int | None
    target_cpa: int | None
    actual_cpa: float | None
    kpi_changes: dict[str, dict[str, Any]]

    @property
    def ahead_of_time(self) -> bool:
        """Spending faster than time passes (by more than ten points), or nearly out of money."""
        if self.elapsed_share is None:
            return self.spent_share >= 0.9
        return self.spent_share - self.elapsed_share > 0.10

    @property
    def cpa_over_target(self) -> bool:
        return (
            self.target_cpa is not None and self.actual_cpa is not None and self.actual_cpa > self.target_cpa
        )


def campaign_pacing(campaign: Campaign, *, on: date | None = None) -> Pacing:
    """The campaign's pacing, CPA against its target and KPI changes, as of `on` (Bogotá today)."""
    on = on or today()
    totals = _sums(campaign.id, None, None)
    spent = round(totals["spend_micros"] / 1_000_000)
    elapsed = days_left = None
    if campaign.end_date is not None:
        flight = (campaign.end_date - campaign.start_date).days + 1
        done = min(max((on - campaign.start_date).days + 1, 0), flight)
        elapsed = done / flight if flight > 0 else 1.0
        days_left = max((campaign.end_date - on).days, 0)
    last = db.session.scalar(
        select(func.max(CampaignMetricDaily.date)).where(CampaignMetricDaily.campaign_id == campaign.id)
    )
    return Pacing(
        spent=spent,
        budget=campaign.budget_total,
        spent_share=spent / campaign.budget_total if campaign.budget_total else 0.0,
        elapsed_share=elapsed,
        days_left=days_left,
        target_cpa=campaign.target_cpa,
        actual_cpa=cpa(spent, totals["applications"]),
        kpi_changes=_changes(campaign.id, last) if last else {},
    )


def _changes(campaign_id: int, last: date) -> dict[str, dict[str, Any]]:
    """Each KPI over the last PERIOD_DAYS up to `last`, the period before and the relative change."""
    current = _kpis(_sums(campaign_id, last - timedelta(days=PERIOD_DAYS - 1), last))
    start = last - timedelta(days=2 * PERIOD_DAYS - 1)
    previous = _kpis(_sums(campaign_id, start, last - timedelta(days=PERIOD_DAYS)))
    changes = {}
    for name in KPIS:
        now, before = current[name], previous[name]
        change = (now - before) / before if now is not None and before else None
        changes[name] = {"current": now, "previous": before, "change": change}
    return changes


def _kpis(sums: dict[str, int]) -> dict[str, float | None]:
    spend = sums["spend_micros"] / 1_000_000
    return {
        "spend": spend,
        "clicks": sums["clicks"],
        "applications": sums["applications"],
        "ctr": ctr(sums["clicks"], sums["impressions"]),
        "cpa": cpa(spend, sums["applications"]),
    }


def _sums(campaign_id: int, since: date | None, until: date | None) -> dict[str, int]:
    m = CampaignMetricDaily
    stmt = select(
        func.coalesce(func.sum(m.spend_micros), 0).label("spend_micros"),
        func.coalesce(func.sum(m.impressions), 0).label("impressions"),
        func.coalesce(func.sum(m.clicks), 0).label("clicks"),
        func.coalesce(func.sum(m.applications), 0).label("applications"),
    ).where(m.campaign_id == campaign_id)
    if since is not None:
        stmt = stmt.where(m.date >= since)
    if until is not None:
        stmt = stmt.where(m.date <= until)
    row = db.session.execute(stmt).one()
    return {key: int(value) for key, value in row._asdict().items()}
