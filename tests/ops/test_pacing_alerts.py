"""Pacing warnings raise alerts: spend off its plan opens one, back on pace resolves it; also a metric."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from adflux.extensions import db
from adflux.models import Alert, CampaignPacing, MetricDaily
from adflux.services import alerting
from ops_data import make_campaign_with_metrics

TODAY = date.today()
NOW = datetime.combine(TODAY, time(17, 0), UTC)  # noon in Bogotá: the same calendar day
RULE = ("campaign_pacing_off",)


def _campaign(daily_spend: int, *, end_in_days: int | None = 9, paced: bool = False) -> int:
    """Started 10 days ago, 5.000.000 over 20 days (2.500.000 planned to date), spending `daily_spend`."""
    days = [(TODAY - timedelta(days=d), daily_spend, 1) for d in range(1, 11)]
    campaign = make_campaign_with_metrics(days=days)
    campaign.end_date = TODAY + timedelta(days=end_in_days) if end_in_days is not None else None
    if paced:
        db.session.add(CampaignPacing(campaign_id=campaign.id, mode="even", enabled=True))
    db.session.commit()
    return campaign.id


def test_overspending_opens_one_spanish_alert_and_back_on_pace_resolves_it(app_ctx, ops_settings, webhook):
    over = _campaign(350_000)  # 3.500.000 spent of 2.500.000: 140 %
    _campaign(240_000)  # 96 %: within ±10 %
    _campaign(350_000, end_in_days=None)  # no end date and pacing off: no plan to judge against

    first = alerting.evaluate(now=NOW, rules=RULE)
    [alert] = db.session.scalars(select(Alert).where(Alert.rule == "campaign_pacing_off")).all()
    assert first.opened == [alert.id] and alert.key == f"campaign:{over}"
    assert alert.value == 1.4 and alert.threshold == 0.1
    assert "gastó $ 3.500.000 de $ 2.500.000 planeados a la fecha (140% del plan, por encima" in alert.message
    assert alert.details["planned_to_date"] == 2_500_000 and alert.details["paced"] is False
    assert alerting.evaluate(now=NOW, rules=RULE).still_open == [alert.id]  # no second alert
    assert webhook.statuses() == [("firing", "campaign_pacing_off", f"campaign:{over}")]

    db.session.execute(
        update(MetricDaily).where(MetricDaily.campaign_id == over).values(spend_micros=260_000 * 10**6)
    )
    db.session.commit()
    resolved = alerting.evaluate(now=NOW, rules=RULE)
    assert resolved.resolved == [alert.id]
    assert webhook.statuses()[-1] == ("resolved", "campaign_pacing_off", f"campaign:{over}")


def test_underspending_a_paced_campaign_without_end_date_is_judged_against_its_monthly_cap(
    app_ctx, ops_settings
):
    campaign_id = _campaign(1_000, end_in_days=None, paced=True)
    alerts = alerting.evaluate(now=NOW, rules=RULE)
    if TODAY.day <= 2:  # the month's first days: nothing planned yet to be judged against
        return
    [alert] = db.session.scalars(select(Alert).where(Alert.id.in_(alerts.opened))).all()
    assert alert.key == f"campaign:{campaign_id}" and "por debajo" in alert.message


def test_the_pacing_ratio_is_a_prometheus_metric(client, app_ctx):
    over = _campaign(350_000)
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    ratios = {
        s.labels["campaign_id"]: s.value
        for family in families
        for s in family.samples
        if s.name == "adflux_campaign_pacing_ratio"
    }
    assert ratios == {str(over): 1.4}
