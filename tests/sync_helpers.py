"""What the batched-sync tests share: campaigns published through the API, and the metric rows stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import MetricDaily
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
