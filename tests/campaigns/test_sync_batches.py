"""The metrics sync reads one account-level report per window and batch of platform campaigns."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from sqlalchemy import func, select

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.extensions import db
from adflux.models import CampaignMetricDaily, DailyMetricTotal, MetricDaily, PlatformCampaign
from adflux.platforms.types import PublishResult
from adflux.services import metrics_sync
from adflux.services.platform_access import adapter_for
from sync_helpers import publish_campaigns, stored_metric_rows

PLATFORMS = ("meta", "google", "tiktok")


def _publish(client, count):
    publish_campaigns(client, count, PLATFORMS)


_rows = stored_metric_rows


def test_one_report_covers_many_campaigns_and_reads_what_one_report_each_reads(client, app_ctx, sandbox):
    _publish(client, 3)
    until = sandbox.advance_days(6)
    before = dict(sandbox.state.requests)
    result = metrics_sync.sync_metrics(until=until)
    calls = {p: sandbox.state.requests[p] - before.get(p, 0) for p in PLATFORMS}
    assert result.failed_platforms == [] and result.platform_campaigns == 9
    # One report for the three campaigns: Meta create + poll + read, Google one query,
    # TikTok create + check + download (per campaign it was 9, 3 and 9).
    assert calls == {"meta": 3, "google": 1, "tiktok": 3}
    batched = _rows()
    days = db.session.scalar(select(func.count(MetricDaily.date.distinct())))
    assert len(batched) == 3 * 3 * 2 * days and days >= 6  # campaigns x platforms x ad groups x days
    assert sum(row.clicks for row in batched) > 0
    # The same rows as the per-campaign reads (the path before), row for row.
    per_campaign = []
    for pc in db.session.scalars(select(PlatformCampaign)):
        adapter, _ = adapter_for(pc.platform)
        with adapter:
            start = pc.campaign.start_date
            per_campaign += [
                (row.ad_group_id, row.date, row.impressions, row.clicks, row.spend_micros, row.applications)
                for row in adapter.fetch_insights(PublishResult.from_dict(pc.external_ids), start, until)
            ]
    by_external = {
        (g.external_id): g.id
        for pc in db.session.scalars(select(PlatformCampaign))
        for g in pc.ad_groups
        if g.external_id
    }
    assert len(by_external) == 18
    assert sorted((by_external[r[0]], *r[1:]) for r in per_campaign) == [tuple(r) for r in batched]
    # Synced twice: nothing counted twice, the rollups still equal the raw rows.
    metrics_sync.sync_metrics(until=until)
    assert _rows() == batched
    clicks = db.session.scalar(select(func.sum(MetricDaily.clicks)))
    assert db.session.scalar(select(func.sum(CampaignMetricDaily.clicks))) == clicks
    assert db.session.scalar(select(func.sum(DailyMetricTotal.clicks))) == clicks


def test_batches_group_platform_campaigns_by_window_and_size(client, app_ctx, sandbox):
    _publish(client, 3)
    until = sandbox.advance_days(4)
    targets = [
        metrics_sync.plan(pc, until=until, lookback=7)
        for pc in metrics_sync.campaigns_to_sync(lookback_days=7, platforms=["meta"])
    ]
    assert len(targets) == 3
    assert [len(batch) for batch in metrics_sync.batches(targets, 2, until)] == [2, 1]
    later = targets[0].__class__(**{**targets[0].__dict__, "start": until})  # a different window
    assert [len(b) for b in metrics_sync.batches([later, *targets[1:]], 100, until)] == [2, 1]
    future = targets[0].__class__(**{**targets[0].__dict__, "start": until.replace(year=until.year + 1)})
    assert metrics_sync.batches([future], 100, until) == []  # nothing to read yet


def test_meta_account_insights_filter_by_campaign_and_refuse_unknown_filters(client, app_ctx, sandbox):
    _publish(client, 2)
    until = sandbox.advance_days(3)
    first = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.platform == "meta")).first()
    act = SANDBOX_ACCOUNTS["meta"]["account_id"]
    base = f"{sandbox.base_url}/v26.0/{act}/insights"
    token = SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"]
    params = {
        "access_token": token,
        "level": "adset",
        "time_increment": "1",
        "time_range": json.dumps({"since": (until.replace(day=1)).isoformat(), "until": until.isoformat()}),
        "fields": "adset_id,campaign_id,clicks",
        "limit": "500",
    }
    everything = httpx.get(base, params=params).json()["data"]
    only = [{"field": "campaign.id", "operator": "IN", "value": [first.external_campaign_id]}]
    some = httpx.get(base, params={**params, "filtering": json.dumps(only)}).json()["data"]
    assert {row["campaign_id"] for row in everything} > {first.external_campaign_id}
    assert some and {row["campaign_id"] for row in some} == {first.external_campaign_id}
    bad = [{"field": "campaign.name", "operator": "IN", "value": ["x"]}]
    answer = httpx.get(base, params={**params, "filtering": json.dumps(bad)})
    assert answer.status_code == 400


def test_an_unexpected_error_while_reading_ends_the_sync_and_its_reading_threads(
    client, app_ctx, sandbox, monkeypatch
):
    _publish(client, 2)
    until = sandbox.advance_days(3)
    from adflux.platforms.google import GoogleAdsAdapter

    def broken(self, results, since, until):
        raise RuntimeError("a bug in the report parser")

    monkeypatch.setattr(GoogleAdsAdapter, "fetch_insights_many", broken)
    with pytest.raises(RuntimeError, match="report parser"):
        metrics_sync.sync_metrics(until=until)
    db.session.rollback()
    assert not [t for t in threading.enumerate() if t.name.startswith("metrics-fetch")]
    # The lock was released: the next sync (parser fixed) runs and writes every platform's rows.
    monkeypatch.undo()
    result = metrics_sync.sync_metrics(until=until)
    assert result.failed_platforms == [] and set(result.platforms) == set(PLATFORMS)
    assert {p for (p,) in db.session.execute(select(MetricDaily.platform).distinct())} == set(PLATFORMS)
