"""bench_metrics' reads: the dashboard's queries on the rollups against the same aggregates from the
raw rows, p50/p95 each in a fresh session, with EXPLAIN ANALYZE.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from metrics_dataset import SEED
from metrics_scratch import wait_for_quiet
from sqlalchemy import BigInteger, Select, cast, func, select, text

from adflux.extensions import db
from adflux.models import Campaign, MetricDaily
from adflux.services import campaigns as campaigns_service
from adflux.services import reports


def _sums(source: Any) -> list[Any]:
    # The same expressions as reports._sums: SUM(bigint) is NUMERIC, cast back to integers.
    sums = []
    for column in reports.COUNTS:
        total = cast(func.sum(getattr(source, column)), BigInteger)
        sums.append((total if column == "engagements" else func.coalesce(total, 0)).label(column))
    return sums


def naive_overview_statements(since: date, until: date) -> list[Select[Any]]:
    window = MetricDaily.date.between(since, until)
    return [
        select(MetricDaily.date, *_sums(MetricDaily))
        .where(window)
        .group_by(MetricDaily.date)
        .order_by(MetricDaily.date),
        select(MetricDaily.platform, *_sums(MetricDaily))
        .where(window)
        .group_by(MetricDaily.platform)
        .order_by(MetricDaily.platform),
    ]


def naive_overview(since: date, until: date) -> dict[str, Any]:
    """reports.overview computed from the raw rows instead of the day/platform rollup."""
    trend_stmt, platform_stmt = naive_overview_statements(since, until)
    trend = [reports.derive(dict(r._mapping)) for r in db.session.execute(trend_stmt)]
    platforms = [reports.derive(dict(r._mapping)) for r in db.session.execute(platform_stmt)]
    totals = reports.derive({c: sum((p.get(c) or 0) for p in platforms) for c in reports.COUNTS})
    return {"since": since, "until": until, "totals": totals, "trend": trend, "platforms": platforms}


def naive_timeseries_statement(campaign_id: int, since: date, until: date) -> Select[Any]:
    return (
        select(MetricDaily.platform, MetricDaily.date, *_sums(MetricDaily))
        .where(MetricDaily.campaign_id == campaign_id, MetricDaily.date.between(since, until))
        .group_by(MetricDaily.platform, MetricDaily.date)
        .order_by(MetricDaily.platform, MetricDaily.date)
    )


def naive_timeseries(campaign_id: int, since: date, until: date) -> dict[str, Any]:
    """reports.campaign_timeseries computed from the raw rows instead of the campaign rollup."""
    series: dict[str, list[dict[str, Any]]] = {}
    for row in db.session.execute(naive_timeseries_statement(campaign_id, since, until)):
        data = dict(row._mapping)
        series.setdefault(data.pop("platform"), []).append(reports.derive(data))
    return {"campaign_id": campaign_id, "series": series}


def page_window(campaign_id: int, today: date) -> tuple[date, date]:
    """The campaign page's chart window (web.views: up to 365 days ending today)."""
    start = db.session.scalar(select(Campaign.start_date).where(Campaign.id == campaign_id))
    return max(start, today - timedelta(days=364)), today


def measure(call: Callable[[], object], samples: int, warmup: int = 3) -> dict[str, float]:
    """Latency in ms of `call`, each in a fresh session (as a request would be)."""
    wait_for_quiet()
    values = []
    for index in range(warmup + samples):
        start = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - start) * 1000
        db.session.remove()
        if index >= warmup:
            values.append(elapsed)
    values.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(values),
        "p95_ms": statistics.quantiles(values, n=20, method="inclusive")[18],
        "max_ms": values[-1],
    }


def explain(stmt: Select[Any]) -> list[str]:
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    db.session.rollback()
    return list(rows)


def rollup_overview_statements(since: date, until: date) -> list[Select[Any]]:
    from adflux.models import DailyMetricTotal

    window = DailyMetricTotal.date.between(since, until)
    return [
        select(DailyMetricTotal.date, *_sums(DailyMetricTotal))
        .where(window)
        .group_by(DailyMetricTotal.date)
        .order_by(DailyMetricTotal.date),
    ]


def rollup_timeseries_statement(campaign_id: int, since: date, until: date) -> Select[Any]:
    from adflux.models import CampaignMetricDaily

    return (
        select(CampaignMetricDaily.platform, CampaignMetricDaily.date,
               *[getattr(CampaignMetricDaily, c) for c in reports.COUNTS])
        .where(CampaignMetricDaily.campaign_id == campaign_id, CampaignMetricDaily.date.between(since, until))
        .order_by(CampaignMetricDaily.platform, CampaignMetricDaily.date)
    )  # fmt: skip


def campaign_ranking_statement(since: date, until: date) -> Select[Any]:
    """What reports.performance_report(group_by=("campaign",)) runs for the overview page."""
    from adflux.models import CampaignMetricDaily

    return (
        select(CampaignMetricDaily.campaign_id.label("campaign"), *_sums(CampaignMetricDaily))
        .where(CampaignMetricDaily.date.between(since, until))
        .group_by(CampaignMetricDaily.campaign_id)
        .order_by(CampaignMetricDaily.campaign_id)
    )


def reads(today: date, campaign_ids: list[int], samples: int) -> dict[str, Any]:
    """p50/p95 of the dashboard's queries from the rollups and from the raw rows."""
    rng = random.Random(SEED)
    since30 = today - timedelta(days=29)
    pick: Callable[[], int] = lambda: rng.choice(campaign_ids)  # noqa: E731

    def campaign_page() -> None:
        campaign_id = pick()
        campaigns_service.get_campaign(campaign_id=campaign_id)
        since, until = page_window(campaign_id, today)
        reports.campaign_timeseries(campaign_id=campaign_id, since=since, until=until)

    def naive_campaign_page() -> None:
        campaign_id = pick()
        campaigns_service.get_campaign(campaign_id=campaign_id)
        since, until = page_window(campaign_id, today)
        naive_timeseries(campaign_id, since, until)

    # The two ways must agree before their speed means anything.
    check_id = campaign_ids[len(campaign_ids) // 2]
    since, until = page_window(check_id, today)
    fast_series = reports.campaign_timeseries(campaign_id=check_id, since=since, until=until)["series"]
    slow_series = naive_timeseries(check_id, since, until)["series"]
    if fast_series != slow_series:
        raise AssertionError("campaign_timeseries from the rollup and from the raw rows differ")
    fast = reports.overview(since=since30, until=today)
    slow = naive_overview(since30, today)
    if (fast["trend"], fast["platforms"], fast["totals"]) != (
        slow["trend"],
        slow["platforms"],
        slow["totals"],
    ):
        raise AssertionError("overview from the rollup and from the raw rows differ")
    db.session.remove()

    naive_samples = max(5, samples // 5)
    results = {
        "overview (rollup)": measure(lambda: reports.overview(since=since30, until=today), samples),
        "campaign page (rollup)": measure(campaign_page, samples),
        "overview (raw rows)": measure(lambda: naive_overview(since30, today), naive_samples),
        "campaign page (raw rows)": measure(naive_campaign_page, samples),
    }
    # The dashboard's overview page also ranks campaigns by spend over the same 30 days.
    results["overview page: + top campaigns report (rollup)"] = measure(
        lambda: (
            reports.overview(since=since30, until=today),
            reports.performance_report(group_by=("campaign",), since=since30, until=today),
        ),
        samples,
    )
    plans = {
        "overview (rollup), trend": explain(rollup_overview_statements(since30, today)[0]),
        "overview (raw rows), trend": explain(naive_overview_statements(since30, today)[0]),
        "overview (raw rows), platforms": explain(naive_overview_statements(since30, today)[1]),
        "top campaigns report (rollup)": explain(campaign_ranking_statement(since30, today)),
        "campaign timeseries (rollup)": explain(rollup_timeseries_statement(check_id, since, until)),
        "campaign timeseries (raw rows)": explain(naive_timeseries_statement(check_id, since, until)),
    }
    return {"latency": results, "plans": plans}
