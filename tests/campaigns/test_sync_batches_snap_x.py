"""Snapchat and X reports for many campaigns at once, and the sandbox refusing what the real APIs refuse.

Snapchat: one ad account report (``breakdown=adsquad``, paged) read once per window for every batch;
X: asynchronous stats jobs of up to 20 line items, polled together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.extensions import db
from adflux.models import CampaignMetricDaily, DailyMetricTotal, MetricDaily, PlatformCampaign
from adflux.platforms.errors import FatalError, PlatformValidationError
from adflux.platforms.types import PublishResult
from adflux.services import metrics_sync
from adflux.services.platform_access import adapter_for
from sync_helpers import publish_campaigns, stored_metric_rows

PLATFORMS = ("snapchat", "x")
BOGOTA = ZoneInfo("America/Bogota")


def _publish(client, count):
    publish_campaigns(client, count, PLATFORMS)


_rows = stored_metric_rows


def _per_campaign_rows(until):
    """What the per-campaign reads (one per ad squad / one job per campaign) return, by our ad group id."""
    rows, by_external = [], {}
    for pc in db.session.scalars(select(PlatformCampaign)):
        by_external.update({g.external_id: g.id for g in pc.ad_groups if g.external_id})
        adapter, _ = adapter_for(pc.platform)
        with adapter:
            found = adapter.fetch_insights(
                PublishResult.from_dict(pc.external_ids), pc.campaign.start_date, until
            )
            rows += [
                (r.ad_group_id, r.date, r.impressions, r.clicks, r.spend_micros, r.applications)
                for r in found
            ]
    return sorted((by_external[r[0]], *r[1:]) for r in rows)


def test_one_report_covers_many_snapchat_and_x_campaigns_as_one_read_each_did(client, app_ctx, sandbox):
    _publish(client, 3)
    until = sandbox.advance_days(6)
    before = dict(sandbox.state.requests)
    result = metrics_sync.sync_metrics(until=until)
    calls = {p: sandbox.state.requests[p] - before.get(p, 0) for p in PLATFORMS}
    assert result.failed_platforms == [] and result.platform_campaigns == 6
    # Snapchat: one account report for the three campaigns (per campaign: one read per squad, 6).
    # X: the 6 line items in one job: create and poll (per campaign: 2 each, 6); the file comes
    # from the CDN (the sandbox's /__files/), not the API.
    assert calls == {"snapchat": 1, "x": 2}
    batched = _rows()
    days = db.session.scalar(select(func.count(MetricDaily.date.distinct())))
    assert len(batched) == 3 * 2 * 2 * days and days >= 6  # campaigns x platforms x ad groups x days
    assert sum(row.clicks for row in batched) > 0
    assert _per_campaign_rows(until) == [tuple(r) for r in batched]  # row for row
    # Synced again (the Snapchat report was handed out: it is read afresh): nothing counted twice.
    before = dict(sandbox.state.requests)
    metrics_sync.sync_metrics(until=until)
    assert sandbox.state.requests["snapchat"] - before["snapchat"] == 1
    assert _rows() == batched
    clicks = db.session.scalar(select(func.sum(MetricDaily.clicks)))
    assert db.session.scalar(select(func.sum(CampaignMetricDaily.clicks))) == clicks
    assert db.session.scalar(select(func.sum(DailyMetricTotal.clicks))) == clicks


def test_the_snapchat_account_report_is_read_once_for_all_batches_and_pages(client, app_ctx, sandbox):
    _publish(client, 3)
    until = sandbox.advance_days(4)
    targets = [
        metrics_sync.plan(pc, until=until, lookback=7)
        for pc in metrics_sync.campaigns_to_sync(lookback_days=7, platforms=["snapchat"])
    ]
    adapter, _ = adapter_for("snapchat")
    before = sandbox.state.requests["snapchat"]
    with adapter:
        rows = [
            row
            for batch in metrics_sync.batches(targets, 1, until)
            for row in metrics_sync.fetch_batch(adapter, batch, until=until)
        ]
    assert sandbox.state.requests["snapchat"] - before == 1  # three batches, one read
    squads = {squad for t in targets for squad in t.result.ad_groups.values()}
    assert {row.ad_group_id for row in rows} == squads and all(row.ad_group_ref for row in rows)
    # Windows that start later (campaigns started since, or synced more recently) reuse the
    # earliest window's read and take their own days from it.
    later = until - timedelta(days=1)
    shifted = [targets[0], *(t.__class__(**{**t.__dict__, "start": later}) for t in targets[1:])]
    adapter, _ = adapter_for("snapchat")
    before = sandbox.state.requests["snapchat"]
    with adapter:
        windows = [
            metrics_sync.fetch_batch(adapter, batch, until=until)
            for batch in metrics_sync.batches(shifted, 1000, until)
        ]
    assert sandbox.state.requests["snapchat"] - before == 1 and len(windows) == 2
    assert {row.date for row in windows[1]} == {later} and min(row.date for row in windows[0]) < later
    assert sorted(map(repr, windows[0] + windows[1])) == sorted(
        repr(row)
        for row in rows
        if row.ad_group_id in targets[0].result.ad_groups.values() or row.date == later
    )


def _snap_stats(sandbox, **params):
    account = SANDBOX_ACCOUNTS["snapchat"]["account_id"]
    token = SANDBOX_ACCOUNTS["snapchat"]["credentials"]["access_token"]
    url = f"{sandbox.base_url}/v1/adaccounts/{account}/stats"
    return httpx.get(url, params=params, headers={"Authorization": f"Bearer {token}"})


def _midnight(day):
    return datetime.combine(day, time.min, BOGOTA).isoformat()


def test_snapchat_account_stats_page_by_squad_and_refuse_what_snap_refuses(client, app_ctx, sandbox):
    _publish(client, 30)  # 60 ad squads: two pages of 50
    until = sandbox.advance_days(3)
    window = {
        "start_time": _midnight(until - timedelta(days=2)),
        "end_time": _midnight(until + timedelta(days=1)),
    }
    params = {
        "granularity": "DAY",
        "breakdown": "adsquad",
        "fields": "impressions,spend",
        "limit": "50",
        **window,
    }
    first = _snap_stats(sandbox, **params).json()
    page = first["timeseries_stats"][0]["timeseries_stat"]
    assert page["type"] == "AD_ACCOUNT" and len(page["breakdown_stats"]["adsquad"]) == 50
    assert all(len(squad["timeseries"]) == 3 for squad in page["breakdown_stats"]["adsquad"])
    token = SANDBOX_ACCOUNTS["snapchat"]["credentials"]["access_token"]
    second = httpx.get(first["paging"]["next_link"], headers={"Authorization": f"Bearer {token}"}).json()
    rest = second["timeseries_stats"][0]["timeseries_stat"]["breakdown_stats"]["adsquad"]
    assert len(rest) == 10 and not second.get("paging", {}).get("next_link")
    squads = {s["id"] for s in page["breakdown_stats"]["adsquad"]} | {s["id"] for s in rest}
    assert len(squads) == 60
    # By campaign: the squads' stats summed per campaign.
    by_campaign = _snap_stats(sandbox, **{**params, "breakdown": "campaign", "limit": "1000"}).json()
    campaigns = by_campaign["timeseries_stats"][0]["timeseries_stat"]["breakdown_stats"]["campaign"]
    assert len(campaigns) == 30 and {c["type"] for c in campaigns} == {"CAMPAIGN"}

    def impressions(entities):
        return sum(p["stats"]["impressions"] for e in entities for p in e["timeseries"])

    assert impressions(campaigns) == impressions(page["breakdown_stats"]["adsquad"]) + impressions(rest) > 0
    refused = [
        {**params, "breakdown": "ad"},  # not emulated
        {**params, "limit": "5000"},  # Snap pages 50 to 1000
        {**params, "campaign_ids": "x"},  # no such parameter: account stats cannot filter by id
        {**params, "pivot": "country"},  # real, not emulated
        {k: v for k, v in params.items() if k != "granularity"},  # granularity is required
        {k: v for k, v in params.items() if k != "breakdown"},  # no breakdown: spend only
        {**params, "start_time": window["start_time"].replace("T00", "T05")},  # not the account's midnight
    ]
    for bad in refused:
        answer = _snap_stats(sandbox, **bad)
        assert answer.status_code == 400 and answer.json()["request_status"] == "ERROR", bad
    spend_only = _snap_stats(sandbox, **{**window, "granularity": "TOTAL", "fields": "spend"}).json()
    total = spend_only["total_stats"][0]["total_stat"]["stats"]["spend"]
    assert total == sum(p["stats"]["spend"] for c in campaigns for p in c["timeseries"]) > 0


def test_x_stats_jobs_take_at_most_20_known_line_items_and_no_unknown_parameters(client, app_ctx, sandbox):
    _publish(client, 11)  # 22 line items: two jobs
    until = sandbox.advance_days(3)
    items = [
        g.external_id
        for pc in db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.platform == "x"))
        for g in pc.ad_groups
    ]
    assert len(items) == 22
    adapter, _ = adapter_for("x")
    before = sandbox.state.requests["x"]
    results = [
        PublishResult.from_dict(pc.external_ids)
        for pc in db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.platform == "x"))
    ]
    with adapter:
        rows = adapter.fetch_insights_many(results, until - timedelta(days=2), until)
        assert sandbox.state.requests["x"] - before == 3  # two jobs created, one poll for both
        base = {
            "entity": "LINE_ITEM",
            "start_time": f"{(until - timedelta(days=2)).isoformat()}T00:00:00Z",
            "end_time": f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z",
            "granularity": "DAY",
            "placement": "ALL_ON_TWITTER",
            "metric_groups": "ENGAGEMENT,BILLING",
        }
        path = f"{adapter.api_version}/stats/jobs/accounts/{adapter.account.account_id}"
        refused = [
            {**base, "entity_ids": ",".join(items[:21])},  # 21 ids
            {**base, "entity_ids": "999999999"},  # no such line item
            {**base, "entity_ids": items[0], "segmentation_type": "AGE"},  # not emulated
            {**base, "entity_ids": items[0], "campaign_ids": "1"},  # no such parameter
        ]
        for bad in refused:
            with pytest.raises((PlatformValidationError, FatalError)):  # 400, or 404 for the unknown id
                adapter.transport.request("POST", path, operation="create_stats_job", params=bad)
    assert {row.ad_group_id for row in rows} == set(items) and all(row.ad_group_ref for row in rows)


def test_the_window_starts_from_the_local_day_of_the_last_sync(client, app_ctx, sandbox):
    _publish(client, 1)
    pc = db.session.scalars(select(PlatformCampaign)).first()
    pc.campaign.start_date = date(2026, 1, 1)
    # 02:00 UTC on 2 March is 21:00 on 1 March in Bogotá: the window counts back from 1 March.
    pc.last_synced_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    db.session.commit()
    target = metrics_sync.plan(pc, until=date(2026, 3, 2), lookback=7)
    assert target.start == date(2026, 2, 22)
    pc.last_synced_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 on 2 March in Bogotá
    db.session.commit()
    assert metrics_sync.plan(pc, until=date(2026, 3, 2), lookback=7).start == date(2026, 2, 23)
