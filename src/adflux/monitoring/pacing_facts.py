"""Where each live campaign stands against its spend plan: the facts behind the pacing alert and metric.

Campaigns with an end date (paced or not: the plan is then the even one) and campaigns whose
pacing is on (without an end date, against their monthly cap). Spend is read in three grouped
queries for all of them at once, then each plan comes from the optimisation engine's
``plan_pacing`` — the same function pacing itself uses — so the alert and the pacing page agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from adflux.extensions import db
from adflux.models import Campaign as C
from adflux.models import CampaignPacing as CP
from adflux.models import MetricDaily as D
from adflux.models import PlatformCampaign as P
from adflux.optimization.pacing import plan_pacing

LIVE = ("active", "partially_active")
RECENT_DAYS = 3  # as services.rules.pacing: the platforms' recent delivery against their budgets
MICROS_PER_PESO = 1_000_000


@dataclass(frozen=True)
class CampaignPace:
    """One campaign's spend against its plan so far (pesos)."""

    campaign_id: int
    name: str
    spent: int
    planned_to_date: int
    pace: float  # spent / planned (1 = on plan)
    days_elapsed: int
    days_left: int
    warnings: tuple[str, ...]
    paced: bool  # AdFlux adjusts its daily budgets (pacing on)


def campaign_paces(*, today: date) -> list[CampaignPace]:
    """Every live campaign with a plan to be judged against, and where it stands today."""
    rows = db.session.execute(
        select(
            C.id,
            C.name,
            C.budget_total,
            C.budget_daily,
            C.start_date,
            C.end_date,
            CP.mode,
            CP.monthly_cap,
            CP.enabled,
        )
        .join(CP, CP.campaign_id == C.id, isouter=True)
        .where(C.status.in_(LIVE), C.start_date < today)
        .where(or_(C.end_date.is_not(None), CP.enabled.is_(True)))
        .order_by(C.id)
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    spend = _spend(ids, today)
    dailies = _platform_dailies(ids)
    out = []
    for row in rows:
        total, recent, month = spend.get(row.id, (0, 0, 0))
        daily_now = dailies.get(row.id) or row.budget_daily or 0
        ratio = recent / (daily_now * RECENT_DAYS) if daily_now else 1.0
        paced = bool(row.enabled)
        plan = plan_pacing(
            total_budget=row.budget_total,
            spent=total,
            start=row.start_date,
            end=row.end_date,
            today=today,
            mode=(row.mode or "even") if paced else "even",
            delivery_ratio=ratio,
            capacity=recent / RECENT_DAYS if recent and ratio < 0.8 else None,
            monthly_cap=row.monthly_cap if paced else None,
            spent_this_month=month,
        )
        out.append(
            CampaignPace(
                campaign_id=row.id,
                name=row.name,
                spent=plan.spent,
                planned_to_date=plan.planned_to_date,
                pace=plan.pace,
                days_elapsed=(today - row.start_date).days,
                days_left=plan.days_left,
                warnings=plan.warnings,
                paced=paced,
            )
        )
    return out


def _spend(ids: Iterable[int], today: date) -> dict[int, tuple[int, int, int]]:
    """Per campaign, whole pesos before today: in total, in the last few days, this month."""
    recent_from, month_from = today - timedelta(days=RECENT_DAYS), today.replace(day=1)

    def since(first: date) -> Any:
        return func.coalesce(func.sum(case((D.date >= first, D.spend_micros), else_=0)), 0)

    rows = db.session.execute(
        select(
            D.campaign_id, func.coalesce(func.sum(D.spend_micros), 0), since(recent_from), since(month_from)
        )
        .where(and_(D.campaign_id.in_(list(ids)), D.date < today))
        .group_by(D.campaign_id)
    ).all()
    return {
        cid: (int(total) // MICROS_PER_PESO, int(recent) // MICROS_PER_PESO, int(month) // MICROS_PER_PESO)
        for cid, total, recent, month in rows
    }


def _platform_dailies(ids: Iterable[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(P.campaign_id, func.coalesce(func.sum(P.budget_daily), 0))
        .where(P.campaign_id.in_(list(ids)))
        .group_by(P.campaign_id)
    ).all()
    return {cid: int(daily or 0) for cid, daily in rows}
