"""Campaigns published through the API (and their metrics synced), and the metric rows stored: what
the batched-sync, rules and budget-allocation tests share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import MetricDaily
from adflux.services import metrics_sync
from factories import make_job, make_segments


def publish_campaigns(client: Any, count: int, platforms: Sequence[str]) -> None:
    """``count`` campaigns of one job, two segments each, created and published on ``platforms``."""
    job = make_job()
    segments = make_segments(2)
    for _ in range(count):
        body = {
            "job_id": job.id,
            "platforms": list(platforms),
            "budget_total": 6_000_000,
            "budget_daily": 200_000,
            "segment_ids": [s.id for s in segments],
        }
        campaign = client.post("/api/v1/campaigns", json=body).get_json()
        assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code in (200, 202)


def synced_campaign(client: Any, sandbox: Any, *, days: int) -> tuple[dict[str, Any], date]:
    """A campaign on Meta and TikTok (two segments, a target CPA) published to the sandbox, the
    sandbox moved ``days`` days on and its metrics synced; the campaign as the API shows it, and
    the sandbox's today."""
    job = make_job()
    segments = make_segments(2)
    body = {
        "job_id": job.id,
        "platforms": ["meta", "tiktok"],
        "budget_total": 6_000_000,
        "budget_daily": 200_000,
        "target_cpa": 20_000,
        "segment_ids": [s.id for s in segments],
    }
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    until = sandbox.advance_days(days)
    assert metrics_sync.sync_metrics(until=until).rows > 0
    return client.get(f"/api/v1/campaigns/{campaign['id']}").get_json(), until


def stored_metric_rows() -> list[Any]:
    """Every stored metric row's key and counts, sorted: two syncs compare equal row for row."""
    return sorted(
        db.session.execute(
            select(
                MetricDaily.ad_group_id,
                MetricDaily.date,
                MetricDaily.impressions,
                MetricDaily.clicks,
                MetricDaily.spend_micros,
                MetricDaily.applications,
            )
        ).all()
    )
