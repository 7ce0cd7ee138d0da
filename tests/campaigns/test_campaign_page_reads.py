"""The campaign page reads less: spend control's whole-life sums and both 7-day periods in one or
two statements, the platforms side by side from the chart's own days. The same figures as summing
the rollup rows by hand (days missing, several platforms) and as the report the page read before."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from adflux.extensions import db
from adflux.kpis import cpa, ctr
from adflux.models import CampaignMetricDaily
from adflux.services import campaigns as campaigns_service
from adflux.services import dashboard, reports
from adflux.services.campaigns.spend_control import campaign_pacing
from factories import make_job


def _rollup(campaign_id: int, last: date, gaps: set[int]) -> None:
    for n in range(40):
        if n in gaps:
            continue
        for p, platform in enumerate(("meta", "google")):
            db.session.add(
                CampaignMetricDaily(
                    campaign_id=campaign_id, platform=platform, date=last - timedelta(days=n),
                    impressions=5_000 + 37 * n + p, reach=4_000, clicks=90 + n % 7 + p, engagements=None,
                    spend_micros=(41_000 + 1_300 * n + 500 * p) * 1_000_000, applications=(n * 3 + p) % 5,
                )
            )  # fmt: skip
    db.session.commit()


def _by_hand(campaign_id: int, since: date | None, until: date | None) -> dict[str, float | None]:
    rows = db.session.scalars(
        select(CampaignMetricDaily).where(CampaignMetricDaily.campaign_id == campaign_id)
    )
    rows = [r for r in rows if (since is None or r.date >= since) and (until is None or r.date <= until)]
    spend = sum(r.spend_micros for r in rows) / 1_000_000
    clicks, applications = sum(r.clicks for r in rows), sum(r.applications for r in rows)
    impressions = sum(r.impressions for r in rows)
    return {"spend": spend, "clicks": clicks, "applications": applications,
            "ctr": ctr(clicks, impressions), "cpa": cpa(spend, applications)}  # fmt: skip


def test_pacing_equals_the_rollup_rows_summed_by_hand_with_days_missing(app_ctx):
    job = make_job()
    last = date(2026, 11, 30)
    campaign = campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta", "google"], budget_total=90_000_000, target_cpa=20_000,
        start_date=last - timedelta(days=60), end_date=last + timedelta(days=20),
    )  # fmt: skip
    # The newest day is missing (so "last" is the day before), and days inside both periods.
    _rollup(campaign.id, last + timedelta(days=1), gaps={0, 3, 9, 10, 16, 30})
    pacing = campaign_pacing(campaign, on=last)
    latest = dashboard.latest_metric_day(campaign_id=campaign.id)
    assert latest == last
    assert campaign_pacing(campaign, on=last, last_metric_day=latest) == pacing  # the page's one statement
    whole = _by_hand(campaign.id, None, None)
    assert pacing.spent == round(whole["spend"])
    assert pacing.actual_cpa == cpa(round(whole["spend"]), whole["applications"])
    current = _by_hand(campaign.id, last - timedelta(days=6), last)
    previous = _by_hand(campaign.id, last - timedelta(days=13), last - timedelta(days=7))
    for name in ("spend", "clicks", "applications", "ctr", "cpa"):
        row = pacing.kpi_changes[name]
        assert row["current"] == current[name], name
        assert row["previous"] == previous[name], name
        assert row["change"] == (current[name] - previous[name]) / previous[name], name


def test_a_campaign_without_metrics_has_no_changes(app_ctx):
    job = make_job()
    campaign = campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta"], budget_total=1_000_000, target_cpa=None,
        start_date=date(2026, 11, 1), end_date=None,
    )  # fmt: skip
    pacing = campaign_pacing(campaign, on=date(2026, 11, 10))
    assert (pacing.spent, pacing.kpi_changes, pacing.actual_cpa) == (0, {}, None)
    assert campaign_pacing(campaign, on=date(2026, 11, 10), last_metric_day=None) == pacing


def test_the_platforms_side_by_side_equal_the_report_over_the_same_days(app_ctx):
    job = make_job()
    last = date(2026, 11, 30)
    campaign = campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta", "google"], budget_total=90_000_000, target_cpa=20_000,
        start_date=last - timedelta(days=60), end_date=None,
    )  # fmt: skip
    _rollup(campaign.id, last, gaps={2, 5})
    db.session.add(
        CampaignMetricDaily(campaign_id=campaign.id, platform="tiktok", date=last - timedelta(days=3),
                            impressions=10, reach=9, clicks=0, engagements=4, spend_micros=0, applications=0)
    )  # fmt: skip
    db.session.commit()
    for since in (last - timedelta(days=29), last - timedelta(days=2), last - timedelta(days=2000 // 40)):
        series = reports.campaign_timeseries(campaign_id=campaign.id, since=since, until=last)
        expected = reports.platform_comparison(campaign_id=campaign.id, since=since, until=last)
        assert reports.comparison_of(series) == expected, since
    assert [r["platform"] for r in expected["rows"]] == ["google", "meta", "tiktok"]
    assert expected["rows"][0]["engagements"] is None and expected["totals"]["engagements"] == 4
