"""The campaign page's results: the latest 90 days a point a day, or the whole campaign a point a
week (summed by the database), each labelled as such, with the totals of the range shown."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import CampaignMetricDaily
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates
from adflux.services.campaign_weeks import week_start, weeks_between
from factories import make_job
from web.conftest import add_metrics


def _specs(html: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" id="([^"]+)-spec">(.*?)</script>', html, re.S)
    return {name: json.loads(body) for name, body in found}


def _campaign(days: int) -> int:
    start = local_dates.today() - timedelta(days=days - 1)
    campaign = campaigns_service.create_campaign(
        job_id=make_job().id, platforms=["meta", "google"], budget_total=90_000_000, start_date=start
    )
    add_metrics(campaign.id, days=days)
    return campaign.id


def _clicks(campaign_id: int, platform: str, since=None) -> int:
    stmt = select(func.sum(CampaignMetricDaily.clicks)).where(
        CampaignMetricDaily.campaign_id == campaign_id, CampaignMetricDaily.platform == platform
    )
    if since is not None:
        stmt = stmt.where(CampaignMetricDaily.date >= since)
    return int(db.session.scalar(stmt))


def test_a_long_campaign_shows_its_latest_90_days_by_day_or_its_whole_life_by_week(app, viewer):
    with app.app_context():
        campaign_id = _campaign(200)
        today = local_dates.today()
    html = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    daily = _specs(html)["campaign-clicks"]
    assert len(daily["labels"]) == 90 and daily["label_head"] == "Día"
    assert "Clics por día y plataforma" in html and "Toda la campaña, por semana" in html
    html = viewer.get(f"/campaigns/{campaign_id}?period=all").get_data(as_text=True)
    weekly = _specs(html)["campaign-clicks"]
    mondays = weeks_between(today - timedelta(days=199), today)
    assert len(weekly["labels"]) == len(mondays) and weekly["label_head"] == "Semana del"
    assert mondays[0] == week_start(today - timedelta(days=199)) and len(mondays) in (29, 30)
    assert "Clics por semana y plataforma" in html and "Últimos 90 días, por día" in html
    assert "Clics por día y plataforma" not in html
    with app.app_context():
        for dataset in weekly["datasets"]:
            # Every day's clicks are in exactly one week: the weeks add up to the whole campaign.
            assert sum(dataset["data"]) == _clicks(campaign_id, dataset["key"])
        for dataset in daily["datasets"]:
            assert sum(dataset["data"]) == _clicks(campaign_id, dataset["key"], today - timedelta(days=89))
    # A CTR point is the week's clicks over its impressions, never an average of daily ratios.
    assert all(0 < value < 1 for d in _specs(html)["campaign-ctr"]["datasets"] for value in d["data"])


def test_a_short_campaign_has_no_weekly_view(app, viewer):
    with app.app_context():
        campaign_id = _campaign(20)
    html = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert len(_specs(html)["campaign-spend"]["labels"]) == 20
    assert "Toda la campaña, por semana" not in html
    # Asked anyway: its whole life is its latest days, shown by day.
    html = viewer.get(f"/campaigns/{campaign_id}?period=all").get_data(as_text=True)
    assert len(_specs(html)["campaign-spend"]["labels"]) == 20 and "por día" in html
