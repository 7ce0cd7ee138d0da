"""The demo's first-hand measurement: the sandbox's clicks reach the tracking links, the simulated
portal posts the applications it received, with a realistic lag, and attributed applications go
back to the platforms' conversion APIs (the embedded sandbox receives them).

Per ad group and day the platform reported clicks and applications; the portal's own count differs
(platforms count view-through and modelled applications, the portal only real ones), so each
platform gets a hidden share of its reported applications that really happened. Those become
clicks on the ad group's tracking link (stamped at their simulated time) and signed-equivalent
postbacks through the same parser and attribution as the API: mostly with AdFlux's click id, some
with UTM values only, a few for jobs AdFlux does not know (kept as unattributed).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from adflux.extensions import db
from adflux.models import Click, MetricDaily, TrackingLink
from adflux.services.tracking import conversions, first_hand, links, postbacks
from adflux.services.tracking.clicks import click_row
from adflux.services.tracking.links import LinkTarget, utm_values
from adflux.settings import current_settings

# The share of each platform's reported applications the portal really receives (hidden truth).
REAL_SHARE = {"meta": 0.78, "google": 0.93, "tiktok": 0.7, "snapchat": 0.75, "x": 0.72}
CLICK_PARAM = {"meta": "fbclid", "google": "gclid", "tiktok": "ttclid", "snapchat": "ScCid", "x": "twclid"}
CLICKS_PER_APPLICATION = 4  # clicks simulated around each application (capped by the reported clicks)
MEAN_LAG_HOURS = 9.0  # from click to application


@dataclass
class TrackingDemo:
    clicks: int = 0
    postbacks: int = 0
    ingest: dict[str, int] = field(default_factory=dict)
    conversions: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def run_tracking_demo(*, campaign_id: int, seed: int, now: datetime | None = None) -> TrackingDemo:
    """Clicks → postbacks → first-hand report → conversions for the demo's campaign."""
    rng = random.Random(seed)
    moment = now or datetime.now(UTC)
    targets = {
        link.ad_group_id: _target(link) for link in links.ensure_campaign_links(campaign_id=campaign_id)
    }
    job = db.session.scalar(select(TrackingLink.job_reference).where(TrackingLink.campaign_id == campaign_id))
    click_rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    days = db.session.scalars(
        select(MetricDaily).where(MetricDaily.campaign_id == campaign_id).order_by(MetricDaily.date)
    ).all()
    for day in days:
        target = targets.get(day.ad_group_id)
        if target is None or not day.clicks:
            continue
        real = _binomial(rng, int(day.applications), REAL_SHARE.get(day.platform, 0.8))
        made = [
            _click(rng, target, day.date, moment)
            for _ in range(min(day.clicks, real * CLICKS_PER_APPLICATION + 3))
        ]
        click_rows.extend(made)
        for row in rng.sample(made, min(real, len(made))):
            events.append(_event(rng, row, target, job or "", moment))
    for n in range(max(1, len(events) // 50)):  # applications for jobs AdFlux never advertised
        events.append(
            {"event_id": f"demo-otro-{seed}-{n}", "job_reference": f"PORTAL-{n}", "occurred_at": _iso(moment)}
        )
    if click_rows:
        db.session.execute(insert(Click), click_rows)
        db.session.commit()
    result = TrackingDemo(clicks=len(click_rows), postbacks=len(events))
    totals = {"stored": 0, "duplicates": 0, "attributed": 0, "unattributed": 0}
    for start in range(0, len(events), postbacks.MAX_BATCH):
        ingested = postbacks.ingest(
            postbacks.parse_body({"events": events[start : start + postbacks.MAX_BATCH]})
        )
        for key in totals:
            totals[key] += getattr(ingested, key)
    result.ingest = totals
    result.conversions = conversions.send_pending(now=moment).__dict__
    result.report = first_hand.first_hand_report(campaign_id=campaign_id)
    return result


def _target(link: TrackingLink) -> LinkTarget:
    return LinkTarget(
        code=link.code,
        campaign_id=link.campaign_id,
        platform=link.platform,
        ad_group_id=link.ad_group_id,
        segment_id=link.segment_id,
        creative_id=link.creative_id,
        destination_url=link.destination_url,
    )


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def _click(rng: random.Random, target: LinkTarget, day: date, now: datetime) -> dict[str, Any]:
    zone = ZoneInfo(current_settings().timezone)
    start = datetime.combine(day, time(6), zone).astimezone(UTC)
    at = min(start + timedelta(seconds=rng.uniform(0, 17 * 3600)), now - timedelta(minutes=30))
    param = CLICK_PARAM.get(target.platform, "fbclid")
    args = {param: f"{param}-{rng.getrandbits(64):016x}"}
    visitor = hashlib.sha256(f"demo-visitor-{rng.getrandbits(40)}".encode()).hexdigest()
    return click_row(target, args, visitor, at)


def _event(
    rng: random.Random, click: dict[str, Any], target: LinkTarget, job: str, now: datetime
) -> dict[str, Any]:
    lag = timedelta(hours=rng.expovariate(1 / MEAN_LAG_HOURS))
    occurred = min(click["at"] + lag, now - timedelta(minutes=1))
    event: dict[str, Any] = {
        "event_id": f"demo-{click['click_id']}",
        "job_reference": job,
        "occurred_at": _iso(occurred),
    }
    if rng.random() < 0.88:  # the portal kept AdFlux's click id
        event["click_id"] = click["click_id"]
    else:  # only the UTM values survived (e.g. the candidate came back later)
        event["utm"] = utm_values(target)
    if rng.random() < 0.7:  # consented to marketing: hashed identifiers may go to the platforms
        email = f"candidato{rng.getrandbits(32)}@example.co"
        event.update(email_sha256=hashlib.sha256(email.encode()).hexdigest(), consent=True)
    return event


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
