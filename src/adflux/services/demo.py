"""The main job, end to end on whatever database is configured (SQLite by default).

simulated data → segments → a campaign for a job on several platforms and segments → publish
to the platform sandbox → advance the sandbox clock → sync metrics → a report → clicks on the
tracking links and the portal's postbacks → first-hand CPA beside the platforms' → conversions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select

from adflux.catalogue import gettext as _
from adflux.constants import STATUS_NAMES_ES
from adflux.extensions import db
from adflux.models import Campaign, JobOpening, Segment, SegmentationModel
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates, metrics_sync, reports
from adflux.services.demo_feed import run_feed_demo
from adflux.services.demo_tracking import run_tracking_demo
from adflux.services.errors import ValidationFailed
from adflux.services.seeding import seed_database
from adflux.services.segmentation import train_segmentation
from adflux.services.segmentation.reach import reachable_segments

logger = logging.getLogger(__name__)

Step = Callable[[str], None]


class SandboxClock(Protocol):
    """The part of a platform sandbox the demo uses: moving its clock forward."""

    def advance_days(self, days: int) -> date: ...


DEMO_PLATFORMS = ("meta", "google", "tiktok")


@dataclass
class DemoResult:
    campaign_id: int = 0
    job_title: str = ""
    segment_names: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    until: date | None = None
    by_platform: dict[str, Any] = field(default_factory=dict)
    by_segment: dict[str, Any] = field(default_factory=dict)
    # The automation part: the feed's runs and the campaigns that followed them.
    feed: dict[str, Any] = field(default_factory=dict)
    # First-hand measurement: clicks, postbacks, the first-hand report and conversions sent.
    tracking: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def run_demo(
    *,
    candidates: int = 5000,
    jobs: int = 200,
    seed: int = 42,
    platforms: tuple[str, ...] = DEMO_PLATFORMS,
    days: int = 21,
    budget: int = 12_000_000,
    step: Step | None = None,
    fresh_sandbox: Callable[[date], SandboxClock | None] = lambda start: None,
) -> DemoResult:
    """Run the whole main job; `step` is told what is happening as it goes.

    `fresh_sandbox(start)` gives the platform sandbox whose clock the demo moves (the embedded
    wiring's), or None where the platforms' clock is not ours (then metrics end today).
    """
    say = step or (lambda message: logger.info("%s", message))
    result = DemoResult(platforms=list(platforms))
    lap = _stopwatch(result.timings)

    say(f"Sembrando {_n(candidates)} candidatos y {_n(jobs)} ofertas simuladas (semilla {seed})")
    seed_database(candidates=candidates, jobs=jobs, seed=seed)
    lap("seed")

    say("Entrenando la segmentación (K-means, k elegido por silueta)")
    model = db.session.get_one(SegmentationModel, train_segmentation(seed=seed, force=True).id)
    lap("segmentation")
    silhouette = f"{model.silhouette:.3f}".replace(".", ",")
    say(f"Modelo v{model.version}: k={model.k}, silueta {silhouette}")

    job, segments = pick_job_and_segments(model, platforms=platforms)
    result.job_title = job.title
    result.segment_names = [s.name for s in segments]
    say(f"Campaña para «{job.title}» en {job.city} → {', '.join(platforms)}")
    broad = "audiencia amplia (ningún segmento alcanza el mínimo de todas las plataformas)"
    say(f"Segmentos: {'; '.join(result.segment_names) or broad}")
    # The flight starts `days` ago on a sandbox whose clock starts then too, so after the
    # simulated weeks the results end today instead of in the future.
    start = local_dates.today() - timedelta(days=days)
    sandbox = fresh_sandbox(start)
    campaign = _publish_campaign(job, segments, platforms, budget=budget, days=days, start=start)
    result.campaign_id = campaign.id
    lap("publish")
    say(f"Publicada: estado {STATUS_NAMES_ES.get(campaign.status, campaign.status)}")

    until = sandbox.advance_days(days) if sandbox is not None else local_dates.today()
    result.until = until
    say(f"Reloj del sandbox adelantado {days} días (hasta {until.isoformat()}); sincronizando métricas")
    sync = metrics_sync.sync_metrics(until=until)
    lap("sync")
    if sync.failed_platforms:
        say(f"Plataformas con error al sincronizar: {', '.join(sync.failed_platforms)}")
    result.by_platform = _performance(campaign, until, by="platform")
    result.by_segment = _performance(campaign, until, by="segment")
    lap("report")

    say("Medición propia: clics en los enlaces de seguimiento, postulaciones del portal y conversiones")
    tracking = run_tracking_demo(campaign_id=campaign.id, seed=seed)
    result.tracking = tracking.__dict__
    lap("tracking")
    say(
        f"{_n(tracking.clicks)} clics, {_n(tracking.postbacks)} postulaciones recibidas "
        f"({_n(tracking.ingest['attributed'])} atribuidas); "
        f"{_n(sum(tracking.conversions['sent'].values()))} enviadas a las plataformas"
    )

    say("Automatización: un feed simulado del portal (por loopback) y un playbook crean las campañas")
    result.feed = run_feed_demo(seed=seed, first_row=jobs, say=say).__dict__
    lap("feed")
    return result


def _performance(campaign: Campaign, until: date, *, by: str) -> dict[str, Any]:
    """The campaign's results from its first day to `until`, by one dimension."""
    return reports.performance_report(
        group_by=(by,), campaign_id=campaign.id, since=campaign.start_date, until=until
    )


def _stopwatch(timings: dict[str, float]) -> Callable[[str], None]:
    """`lap(name)` records the seconds since the previous lap (or since now) under `name`."""
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    return lap


def _publish_campaign(
    job: JobOpening,
    segments: list[Segment],
    platforms: tuple[str, ...],
    *,
    budget: int,
    days: int,
    start: date,
) -> Campaign:
    """The demo's campaign on the chosen platforms and segments, created and published."""
    campaign = campaigns_service.create_campaign(
        job_id=job.id,
        platforms=list(platforms),
        segment_ids=[s.id for s in segments],
        budget_total=budget,
        budget_daily=budget // days,
        start_date=start,
        objective="traffic",
    )
    campaigns_service.publish_campaign(campaign_id=campaign.id)
    return db.session.get_one(Campaign, campaign.id)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def pick_job_and_segments(
    model: SegmentationModel, *, how_many: int = 2, platforms: Sequence[str] = ()
) -> tuple[JobOpening, list[Segment]]:
    """An open job whose category is the most common desire among the largest segments, and two
    segments that want it most (among those every one of `platforms` accepts as an audience)."""
    ordered = list(
        db.session.scalars(select(Segment).where(Segment.model_id == model.id).order_by(Segment.size.desc()))
    )
    if len(ordered) < 1:
        raise ValidationFailed(_("The segmentation model has no segments"))
    # None large enough for every platform: the campaign reaches a broad audience instead.
    segments = reachable_segments(ordered, platforms)

    def top_category(segment: Segment) -> str | None:
        entries = (segment.profile or {}).get("top_categories") or []
        first = entries[0] if entries else None
        return (first.get("value") or first.get("name")) if isinstance(first, dict) else first

    open_categories = dict(
        db.session.execute(
            select(JobOpening.category, func.count())
            .where(JobOpening.status == "open")
            .group_by(JobOpening.category)
        ).all()
    )
    for segment in segments:
        category = top_category(segment)
        if category in open_categories:
            chosen = [segment] + [s for s in segments if s is not segment and top_category(s) == category]
            chosen += [s for s in segments if s not in chosen]
            job = db.session.scalars(
                select(JobOpening)
                .where(JobOpening.status == "open", JobOpening.category == category)
                .order_by(JobOpening.salary_max.desc().nulls_last(), JobOpening.id)
                .limit(1)
            ).one()
            return job, chosen[:how_many]
    job = db.session.scalars(select(JobOpening).where(JobOpening.status == "open").limit(1)).one()
    return job, segments[:how_many]
