"""The campaign page reads less: spend control's whole-life sums and both 7-day periods in one or
two statements, the platforms side by side from the chart's own days, the campaign's tree with its
switch, last run, newest day and log in two. The same figures as summing the rollup rows by hand
(days missing, several platforms) and as the reads the page made before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from adflux.extensions import db
from adflux.kpis import cpa, ctr
from adflux.models import AllocationEntry, CampaignMetricDaily, TaskRun
from adflux.services import campaigns as campaigns_service
from adflux.services import dashboard, reports
from adflux.services.allocation import settings as allocation_settings
from adflux.services.campaigns.spend_control import campaign_pacing
from adflux.services.errors import NotFound
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


def test_the_page_reads_equal_the_reads_they_replace(app_ctx, statements):
    job = make_job()
    last = date(2026, 11, 30)
    campaign = campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta", "google"], budget_total=90_000_000, target_cpa=20_000,
        start_date=last - timedelta(days=60), end_date=None,
    )  # fmt: skip
    db.session.remove()
    bare = campaigns_service.campaign_page_reads(campaign_id=campaign.id)  # no rows, run, switch or log
    assert (bare.allocation_on, bare.task, bare.last_metric_day, bare.has_allocation_log) == (
        False,
        None,
        None,
        False,
    )
    assert dashboard.latest_metric_day(campaign_id=campaign.id) is None
    _rollup(campaign.id, last, gaps={0, 1})
    allocation_settings.configure(campaign_id=campaign.id, enabled=True)
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for n, minutes in enumerate((0, 30, 10)):  # the newest is the second one
        db.session.add(TaskRun(id=f"run-{campaign.id}-{n}", kind="publish_campaign", status="succeeded",
                               subject_type="campaign", subject_id=str(campaign.id),
                               created_at=at + timedelta(minutes=minutes)))  # fmt: skip
    group = bare.campaign.platform_campaigns[0].ad_groups[0]
    db.session.add(
        AllocationEntry(campaign_id=campaign.id, day=last, ad_group_id=group.id,
                        platform_campaign_id=group.platform_campaign_id, platform="meta", pool=100_000,
                        budget_before=50_000, budget_after=50_000, share_level=0, propensity=1.0,
                        status="unchanged")
    )  # fmt: skip
    db.session.commit()
    db.session.remove()
    reads = campaigns_service.campaign_page_reads(campaign_id=campaign.id)
    assert (
        reads.last_metric_day
        == dashboard.latest_metric_day(campaign_id=campaign.id)
        == last - timedelta(days=2)
    )
    assert reads.task is not None and reads.task.id == f"run-{campaign.id}-1"
    assert reads.task is dashboard.latest_task_run(subject_type="campaign", subject_id=campaign.id)
    assert reads.allocation_on is allocation_settings.is_enabled(campaign.id) is True
    assert reads.has_allocation_log is True
    statements.clear()
    loaded = reads.campaign
    shown = [(pc.platform, [g.name for g in pc.ad_groups], [c.headline for c in pc.creatives])
             for pc in loaded.platform_campaigns]  # fmt: skip
    assert loaded.job.title == job.title and loaded.segments == [] and len(shown) == 2
    assert all(groups and creatives for _platform, groups, creatives in shown)
    assert statements == []  # the whole tree came with the two statements
    with pytest.raises(NotFound):
        campaigns_service.campaign_page_reads(campaign_id=campaign.id + 1000)


def test_a_campaigns_newest_day_when_it_stopped_before_the_others(app_ctx, statements):
    """Grouped by campaign: PostgreSQL would otherwise answer max(date) by walking the date index
    of every campaign's rows from the newest day back until it met one of this campaign's."""
    job = make_job()
    last = date(2026, 11, 30)
    running, stopped = (
        campaigns_service.create_campaign(
            job_id=job.id,
            platforms=["meta", "google"],
            budget_total=9_000_000,
            start_date=last - timedelta(days=60),
        ).id
        for _ in range(2)
    )
    _rollup(running, last, gaps=set())
    _rollup(stopped, last - timedelta(days=25), gaps={0})
    statements.clear()
    assert dashboard.latest_metric_day(campaign_id=stopped) == last - timedelta(days=26)
    assert dashboard.latest_metric_day(campaign_id=running) == last
    assert len(statements) == 2 and all(
        "GROUP BY campaign_metrics_daily.campaign_id" in s for s in statements
    )
    reads = campaigns_service.campaign_page_reads(campaign_id=stopped)
    assert reads.last_metric_day == last - timedelta(days=26)
