"""metrics_daily by month: partitions made as rows arrive (PostgreSQL), retention drops old months."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import func, select, text

from adflux.extensions import db
from adflux.models import Campaign, CampaignMetricDaily, DailyMetricTotal, MetricDaily, SegmentMetricDaily
from adflux.services import campaigns as campaigns_service
from adflux.services import maintenance, metric_partitions
from adflux.services.metrics_store import upsert_metrics
from adflux.settings import current_settings
from factories import make_job

DAYS = (date(2026, 1, 30), date(2026, 2, 3), date(2026, 3, 1), date(2026, 3, 31))


def _campaign() -> Campaign:
    return campaigns_service.create_campaign(job_id=make_job().id, platforms=["meta"], budget_total=2_000_000)


def _write(campaign: Campaign) -> None:
    pc = campaign.platform_campaigns[0]
    group = pc.ad_groups[0]
    rows = [
        (group.id, day, pc.id, campaign.id, "meta", None, 1000, 800, 20, 60, 5_000_000, 2) for day in DAYS
    ]
    upsert_metrics(rows)
    db.session.commit()


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_rows_land_in_a_partition_per_month_on_postgresql(app_ctx: Flask) -> None:
    _write(_campaign())
    assert _count(MetricDaily) == 4
    if db.engine.dialect.name != "postgresql":
        assert metric_partitions.months() == []  # SQLite: one plain table
        return
    kind = db.session.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'metrics_daily'"))
    assert kind == "p"
    names = ["metrics_daily_y2026m01", "metrics_daily_y2026m02", "metrics_daily_y2026m03"]
    assert set(names) <= {name for _, name in metric_partitions.months()}  # (other tests' months too)
    per_partition = {
        name: db.session.scalar(text(f"SELECT count(*) FROM {name}")) for name in names
    }  # fmt: skip
    assert per_partition == {
        "metrics_daily_y2026m01": 1,
        "metrics_daily_y2026m02": 1,
        "metrics_daily_y2026m03": 2,
    }
    assert metric_partitions.ensure_months(DAYS) == names  # again: nothing new, no error


def test_retention_drops_whole_months_and_their_rollups(app_ctx: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flask import current_app

    from adflux.settings import EXTENSION_KEY

    _write(_campaign())
    settings = current_settings().replace(metrics_retention_days=40)
    monkeypatch.setitem(current_app.extensions, EXTENSION_KEY, settings)
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)  # 40 days back: 2026-02-08
    dry = maintenance.prune(dry_run=True, simulated=False, now=now)
    postgres = db.engine.dialect.name == "postgresql"
    # PostgreSQL drops whole months (January); SQLite deletes rows before 2026-02-08 (also one).
    assert dry.retention["metrics_daily"] == (1 if postgres else 2)
    assert _count(MetricDaily) == 4
    done = maintenance.prune(simulated=False, now=now)
    assert done.retention["metrics_daily"] == dry.retention["metrics_daily"]
    kept = sorted(db.session.scalars(select(MetricDaily.date)))
    assert kept == (list(DAYS[1:]) if postgres else list(DAYS[2:]))
    for rollup in (CampaignMetricDaily, DailyMetricTotal, SegmentMetricDaily):
        assert min(db.session.scalars(select(rollup.date))) == kept[0]
    if postgres:
        assert "metrics_daily_y2026m01" not in {name for _, name in metric_partitions.months()}
