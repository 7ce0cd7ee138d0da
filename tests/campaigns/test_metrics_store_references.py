"""metrics_daily has no foreign keys: upsert_metrics checks each batch's references itself."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import Campaign, MetricDaily
from adflux.services import campaigns as campaigns_service
from adflux.services.errors import ValidationFailed
from adflux.services.metrics_store import upsert_metrics
from factories import make_job

DAY = date(2026, 3, 1)


def _campaign() -> Campaign:
    job = make_job()
    return campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta", "google"], budget_total=2_000_000
    )


def _row(group_id: int, pc_id: int, campaign_id: int, platform: str) -> tuple[object, ...]:
    return (group_id, DAY, pc_id, campaign_id, platform, None, 1000, 800, 20, None, 5_000_000, 2)


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(MetricDaily)) or 0


def test_rows_of_real_ad_groups_are_written(app_ctx: Flask) -> None:
    campaign = _campaign()
    rows = [
        _row(group.id, pc.id, campaign.id, pc.platform)
        for pc in campaign.platform_campaigns
        for group in pc.ad_groups
    ]
    assert upsert_metrics(rows) == len(rows) == 2
    db.session.commit()
    assert _stored() == 2


@pytest.mark.parametrize(
    "mismatch",
    ["unknown ad group", "other platform campaign", "other campaign", "other platform"],
)
def test_rows_that_match_no_ad_group_are_refused_and_nothing_is_written(
    app_ctx: Flask, mismatch: str
) -> None:
    campaign, other = _campaign(), _campaign()
    meta, google = campaign.platform_campaigns
    group = meta.ad_groups[0]
    good = _row(group.id, meta.id, campaign.id, "meta")
    bad = {
        "unknown ad group": _row(987_654, meta.id, campaign.id, "meta"),
        "other platform campaign": _row(group.id, google.id, campaign.id, "meta"),
        "other campaign": _row(group.id, meta.id, other.id, "meta"),
        "other platform": _row(group.id, meta.id, campaign.id, "google"),
    }[mismatch]
    with pytest.raises(ValidationFailed, match=r"1 referencia\(s\) de filas de métricas") as refused:
        upsert_metrics([good, bad])
    # The refused reference is named in the reader's words: Spanish ids, the platform's label.
    assert f"grupo de anuncios {bad[0]} / campaña en plataforma" in str(refused.value)
    assert "platform campaign" not in str(refused.value)
    db.session.rollback()
    assert _stored() == 0


def _rollups() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    from adflux.models import CampaignMetricDaily, DailyMetricTotal

    campaign_rows = db.session.execute(
        select(CampaignMetricDaily.__table__).order_by(*CampaignMetricDaily.__table__.primary_key.columns)
    ).all()
    day_rows = db.session.execute(
        select(DailyMetricTotal.__table__).order_by(*DailyMetricTotal.__table__.primary_key.columns)
    ).all()
    return [tuple(r) for r in campaign_rows], [tuple(r) for r in day_rows]


def test_refreshing_the_touched_days_gives_what_a_full_rebuild_gives(app_ctx: Flask) -> None:
    from datetime import timedelta

    from adflux.services.metrics_store import rebuild_all_rollups

    campaigns = [_campaign(), _campaign()]
    rows = [
        (group.id, DAY + timedelta(days=offset), pc.id, campaign.id, pc.platform, None,
         1000 + offset, 800, 20 + offset, None if pc.platform == "google" else 7, 5_000_000, offset % 3)
        for campaign in campaigns
        for pc in campaign.platform_campaigns
        for group in pc.ad_groups
        for offset in range(4)
    ]  # fmt: skip
    upsert_metrics(rows)
    # Restated figures for two of the days of one campaign: only those pairs are refreshed.
    restated = [
        (*row[:6], row[6] * 2, *row[7:]) for row in rows if row[3] == campaigns[0].id and row[1] > DAY
    ]
    upsert_metrics(restated[:3])
    db.session.commit()
    refreshed = _rollups()
    rebuild_all_rollups()
    db.session.commit()
    assert refreshed == _rollups()
    assert len(refreshed[0]) == 2 * 2 * 4  # campaigns x platforms x days


def test_unchanged_rows_are_left_alone_and_changed_ones_refresh_their_rollups(app_ctx: Flask) -> None:
    from adflux.models import CampaignMetricDaily

    campaign = _campaign()
    meta = campaign.platform_campaigns[0]
    row = _row(meta.ad_groups[0].id, meta.id, campaign.id, "meta")
    upsert_metrics([row])
    db.session.commit()
    first_sync = db.session.scalar(select(MetricDaily.synced_at))
    upsert_metrics([row])  # the lookback re-read: same figures
    db.session.commit()
    assert db.session.scalar(select(MetricDaily.synced_at)) == first_sync
    upsert_metrics([(*row[:6], 5000, *row[7:])])  # a restatement
    db.session.commit()
    assert db.session.scalar(select(MetricDaily.synced_at)) != first_sync
    assert db.session.scalar(select(CampaignMetricDaily.impressions)) == 5000
