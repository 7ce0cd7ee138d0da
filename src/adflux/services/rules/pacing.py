"""Pacing a campaign: planned vs actual spend, today's daily budget, and the warnings behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Campaign, CampaignPacing, MetricDaily, OptimizationDecision, PlatformCampaign
from adflux.optimization.pacing import PACING_MODES, PacingPlan, plan_pacing
from adflux.services import audit, local_dates
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.rules import actuators

RECENT_DAYS = 3
MIN_CHANGE = 0.05  # a platform budget is changed only when pacing moves it by at least 5 %


@dataclass(frozen=True)
class PacingState:
    """A campaign's pacing: its settings, the plan for today and what it rests on."""

    campaign_id: int
    enabled: bool
    mode: str
    monthly_cap: int | None
    budget_total: int
    start_date: date
    end_date: date | None
    plan: PacingPlan
    delivery_ratio: float


def _spend(campaign_id: int, since: date | None, until: date) -> int:
    query = select(func.coalesce(func.sum(MetricDaily.spend_micros), 0)).where(
        MetricDaily.campaign_id == campaign_id, MetricDaily.date < until
    )
    if since is not None:
        query = query.where(MetricDaily.date >= since)
    return int(db.session.execute(query).scalar_one()) // 1_000_000


def _platform_campaigns(campaign_id: int) -> list[PlatformCampaign]:
    return list(
        db.session.execute(
            select(PlatformCampaign)
            .where(PlatformCampaign.campaign_id == campaign_id)
            .order_by(PlatformCampaign.id)
        ).scalars()
    )


def pacing_state(*, campaign_id: int, today: date | None = None) -> PacingState:
    """Where the campaign stands against its plan today (Bogotá date)."""
    today = today or local_dates.today()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s not found", campaign_id=campaign_id))
    settings = db.session.get(CampaignPacing, campaign_id)
    mode = settings.mode if settings else "even"
    daily_now = sum(pc.budget_daily or 0 for pc in _platform_campaigns(campaign_id)) or (
        campaign.budget_daily or 0
    )
    recent = _spend(campaign_id, today - timedelta(days=RECENT_DAYS), today)
    ratio = recent / (daily_now * RECENT_DAYS) if daily_now else 1.0
    capacity = recent / RECENT_DAYS if recent and ratio < 0.8 else None
    plan = plan_pacing(
        total_budget=campaign.budget_total,
        spent=_spend(campaign_id, None, today),
        start=campaign.start_date,
        end=campaign.end_date,
        today=today,
        mode=mode,
        delivery_ratio=ratio,
        capacity=capacity,
        monthly_cap=settings.monthly_cap if settings else None,
        spent_this_month=_spend(campaign_id, today.replace(day=1), today),
    )
    return PacingState(
        campaign_id=campaign_id,
        enabled=bool(settings and settings.enabled),
        mode=mode,
        monthly_cap=settings.monthly_cap if settings else None,
        budget_total=campaign.budget_total,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        plan=plan,
        delivery_ratio=round(ratio, 4),
    )


def configure_pacing(
    *, campaign_id: int, mode: str, enabled: bool = True, monthly_cap: int | None = None
) -> PacingState:
    """Turn pacing on or off for a campaign and choose even or front-loaded."""
    if mode not in PACING_MODES:
        raise ValidationFailed(
            _(
                "Unknown pacing mode %(mode)r (one of %(PACING_MODES)s)",
                mode=mode,
                PACING_MODES=", ".join(PACING_MODES),
            )
        )
    if monthly_cap is not None and monthly_cap <= 0:
        raise ValidationFailed(_("The monthly cap is a positive amount of pesos"))
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_("Campaign %(campaign_id)s not found", campaign_id=campaign_id))
    settings = db.session.get(CampaignPacing, campaign_id) or CampaignPacing(campaign_id=campaign_id)
    before = {"mode": settings.mode, "enabled": settings.enabled, "monthly_cap": settings.monthly_cap}
    settings.mode, settings.enabled, settings.monthly_cap = mode, enabled, monthly_cap
    db.session.add(settings)
    audit.record(
        "pacing.configure",
        entity_type="campaign",
        entity_id=campaign_id,
        before=before,
        after={"mode": mode, "enabled": enabled, "monthly_cap": monthly_cap},
    )
    db.session.commit()
    return pacing_state(campaign_id=campaign_id)


def apply_pacing(*, campaign_id: int, today: date | None = None) -> list[OptimizationDecision]:
    """Set each platform campaign's daily budget to its share of today's plan (the caller commits)."""
    from adflux.services.allocation.settings import is_enabled as allocated

    state = pacing_state(campaign_id=campaign_id, today=today)
    if not state.enabled or allocated(campaign_id):
        return []  # an allocated campaign's ad groups share the plan's budget through the allocator
    pcs = [pc for pc in _platform_campaigns(campaign_id) if pc.status in ("active", "paused")]
    weights = sum(pc.budget_weight for pc in pcs) or 1.0
    decisions = []
    for pc in pcs:
        wanted = round(state.plan.daily_budget * pc.budget_weight / weights)
        current = pc.budget_daily or 0
        if current and abs(wanted - current) < MIN_CHANGE * current:
            continue
        outcome = actuators.set_daily_budget(
            platform_campaign_id=pc.id,
            ad_group_id=None,
            daily_budget=wanted,
            reason=f"pacing {state.mode}",
            actor="pacing",
        )
        row = OptimizationDecision(
            day=today or local_dates.today(),
            source="pacing",
            campaign_id=campaign_id,
            platform_campaign_id=pc.id,
            action="budget",
            status=outcome.status,
            budget_before=current,
            budget_after=wanted,
            message=outcome.message,
            evidence={
                "planned_to_date": state.plan.planned_to_date,
                "spent": state.plan.spent,
                "days_left": state.plan.days_left,
                "warnings": list(state.plan.warnings),
            },
        )
        db.session.add(row)
        decisions.append(row)
    if decisions:
        audit.record(
            "pacing.apply",
            entity_type="campaign",
            entity_id=campaign_id,
            after={"daily_budget": state.plan.daily_budget, "warnings": list(state.plan.warnings)},
        )
    return decisions
