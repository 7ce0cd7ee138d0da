"""Marketing checks: what the campaigns, their pacing, the segments, the syncs and the feeds show.

CPA above target, pacing off, segmentation drift, failing metric syncs and feeds, actions left
incomplete on a platform, campaigns awaiting approval.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adflux import kpis
from adflux.catalogue import message as _
from adflux.monitoring import facts, pacing_facts
from adflux.services.alerting.check_types import Context, Firing

# A flight's first day says little about its pace (a platform's first-day ramp-up is normal).
MIN_PACING_DAYS = 2


def campaign_cpa(ctx: Context) -> list[Firing]:
    days = ctx.settings.alert_cpa_window_days
    out = []
    for row in facts.campaign_cpas(window_days=days, today=ctx.now.date()):
        # No application yet: the CPA is undefined, but the first application will cost at least
        # what was spent, so alert once the spend alone exceeds the target.
        at_least = kpis.cpa_at_least(row.spend_pesos, row.applications)
        if row.spend_pesos <= 0 or at_least <= row.target_cpa:
            continue
        said = f"CPA {_pesos(at_least)}" if row.cpa is not None else _("no applications yet")
        out.append(
            Firing(
                key=f"campaign:{row.campaign_id}",
                value=round(at_least, 2),
                threshold=row.target_cpa,
                message=(
                    _(
                        "Campaign %(name)r: %(said)s over %(days)s days, target %(target_cpa)s "
                        "(%(applications)s applications, %(spend_pesos)s spent)",
                        name=row.name,
                        said=said,
                        days=days,
                        target_cpa=_pesos(row.target_cpa),
                        applications=row.applications,
                        spend_pesos=_pesos(row.spend_pesos),
                    )
                ),
                details={
                    "campaign_id": row.campaign_id,
                    "spend_pesos": row.spend_pesos,
                    "applications": row.applications,
                    "window_days": days,
                },
            )
        )
    return out


def pacing_off(ctx: Context) -> list[Firing]:
    """Live campaigns whose spend is off their plan beyond the tolerance, or that cannot land."""
    tolerance = ctx.settings.alert_pacing_tolerance
    today = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    out = []
    for row in pacing_facts.campaign_paces(today=today):
        if "ended" in row.warnings or row.days_elapsed < MIN_PACING_DAYS:
            continue
        off = abs(row.pace - 1) > tolerance
        cannot_land = "cannot_land" in row.warnings
        if not (off or cannot_land):
            continue
        said = "por encima" if row.pace > 1 else "por debajo"
        message = (
            f"Campaña «{row.name}»: gastó {_pesos(row.spent)} de {_pesos(row.planned_to_date)} "
            f"planeados a la fecha ({row.pace:.0%} del plan, {said}; tolerancia ±{tolerance:.0%})"
        )
        if cannot_land:
            message += "; no alcanzará su presupuesto total: la audiencia no absorbe lo que queda"
        out.append(
            Firing(
                key=f"campaign:{row.campaign_id}",
                value=round(row.pace, 4),
                threshold=tolerance,
                message=message,
                details={
                    "campaign_id": row.campaign_id,
                    "spent": row.spent,
                    "planned_to_date": row.planned_to_date,
                    "days_left": row.days_left,
                    "warnings": list(row.warnings),
                    "paced": row.paced,
                },
            )
        )
    return out


def _pesos(amount: float) -> str:
    # Colombian style: $ 1.234.567
    return "$ " + f"{round(amount):,}".replace(",", ".")


def drift(ctx: Context) -> list[Firing]:
    model = facts.model_facts()
    limit = ctx.settings.alert_drift_threshold
    if model.active_version is None or model.drift is None or model.drift <= limit:
        return []
    return [
        Firing(
            key=f"model:{model.active_version}",
            value=round(model.drift, 4),
            threshold=limit,
            message=_(
                "Segmentation model v%(active_version)s: drift (PSI) %(drift)s > %(limit)s",
                active_version=model.active_version,
                drift=f"{model.drift:.3f}",
                limit=f"{limit:g}",
            ),
        )
    ]


def sync_failing(ctx: Context) -> list[Firing]:
    limit = ctx.settings.alert_sync_failures
    sync = facts.metrics_sync_health(look_back=max(limit, 1) + 1)
    if sync.consecutive_failures < limit:
        return []
    return [
        Firing(
            key="metrics_sync",
            value=sync.consecutive_failures,
            threshold=limit,
            message=f"The last {sync.consecutive_failures} metrics syncs failed: {sync.last_error or ''}"[
                :500
            ],
        )
    ]


def action_incomplete(ctx: Context) -> list[Firing]:
    return [
        Firing(
            key=f"campaign:{campaign_id}",
            message=(
                _(
                    "Campaign %(name)r: the %(action)s did not reach every platform; retry it (adflux "
                    "campaign retry-action %(campaign_id)s)",
                    name=name,
                    action=action,
                    campaign_id=campaign_id,
                )
            ),
            details={"campaign_id": campaign_id, "action": action},
        )
        for campaign_id, name, action in facts.campaigns_with_incomplete_actions()
    ]


def feed_failing(ctx: Context) -> list[Firing]:
    return [
        Firing(
            key=f"feed:{feed_id}",
            message=f"Job feed {name!r} could not be read: {error or 'see its last run'}"[:500],
            details={"feed_id": feed_id},
        )
        for feed_id, name, error in facts.failing_feeds()
    ]


def awaiting_approval(ctx: Context) -> list[Firing]:
    return [
        Firing(
            key=f"campaign:{campaign_id}",
            message=(
                _(
                    "Campaign %(name)r (%(budget)s) waits for approval: adflux approvals approve "
                    "%(campaign_id)s, or reject it with a reason",
                    name=name,
                    budget=_pesos(budget),
                    campaign_id=campaign_id,
                )
            ),
            details={"campaign_id": campaign_id},
        )
        for campaign_id, name, budget in facts.campaigns_awaiting_approval()
    ]
