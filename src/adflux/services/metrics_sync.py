"""Pulling daily insights from every platform into MetricDaily.

Incremental: each platform campaign is read from its last sync minus a lookback window (platforms
restate late conversions), up to today. One failing platform is recorded and does not hold back
the others; the task retries only the platforms that failed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from adflux.catalogue import gettext as _
from adflux.constants import TASK_SYNC_METRICS
from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign, TaskRun
from adflux.models.base import utcnow
from adflux.platforms.errors import PlatformError
from adflux.platforms.types import InsightRow, PublishResult
from adflux.services import task_runs
from adflux.services.errors import Conflict
from adflux.services.local_dates import local_date, today
from adflux.services.locks import try_lock
from adflux.services.metrics_store import refresh_day_totals, upsert_metrics
from adflux.services.platform_access import adapter_for
from adflux.services.publishing import ad_group_ref
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

SYNC_LOCK_KEY = 1


@dataclass
class SyncResult:
    rows: int = 0
    platform_campaigns: int = 0
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed_platforms(self) -> list[str]:
        return sorted(p for p, info in self.platforms.items() if info.get("error"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "platform_campaigns": self.platform_campaigns,
            "platforms": self.platforms,
            "failed_platforms": self.failed_platforms,
        }


def retry_delay(result: dict[str, Any], default: float) -> float:
    """Seconds before retrying the failed platforms: the longest Retry-After they sent, else `default`."""
    hints = [float(info.get("retry_after") or 0) for info in (result.get("platforms") or {}).values()]
    return min(max([default, *hints]), 24 * 3600.0)


def failure_reason(result: dict[str, Any]) -> str | None:
    """Why a sync result is a failure: the platforms that failed and how (None when none did)."""
    failed = result.get("failed_platforms") or []
    if not failed:
        return None
    return "; ".join(f"{platform}: {result['platforms'][platform]['error']}" for platform in failed)[:2000]


def start_sync() -> TaskRun:
    """Queue a metrics sync of every platform and return its TaskRun (inline without a broker)."""
    run = task_runs.create_task_run(kind="metrics.sync")
    return task_runs.enqueue(TASK_SYNC_METRICS, run, queue="sync")


def campaigns_to_sync(*, lookback_days: int, platforms: list[str] | None = None) -> list[PlatformCampaign]:
    """Published platform campaigns that are live or ended within the lookback window."""
    horizon = today() - timedelta(days=lookback_days)
    stmt = (
        select(PlatformCampaign)
        .join(Campaign)
        .options(selectinload(PlatformCampaign.ad_groups), selectinload(PlatformCampaign.campaign))
        .where(
            PlatformCampaign.external_campaign_id.is_not(None),
            PlatformCampaign.status.in_(("active", "paused", "archived")),
            or_(
                Campaign.status.in_(("active", "partially_active", "paused")),
                Campaign.end_date.is_(None) & (PlatformCampaign.last_synced_at.is_(None)),
                Campaign.end_date >= horizon,
                PlatformCampaign.last_synced_at.is_(None),
            ),
        )
        .order_by(PlatformCampaign.platform, PlatformCampaign.id)
    )
    if platforms:
        stmt = stmt.where(PlatformCampaign.platform.in_(platforms))
    return list(db.session.scalars(stmt))


def sync_metrics(
    *,
    until: date | None = None,
    lookback_days: int | None = None,
    platforms: list[str] | None = None,
    progress: Any = None,
) -> SyncResult:
    """Fetch and upsert daily insights for every platform campaign that needs it (one at a time:
    a second sync while one runs, e.g. a redelivered task, is refused instead of doubling it)."""
    with try_lock("sync", SYNC_LOCK_KEY) as acquired:
        if not acquired:
            raise Conflict(_("A metrics sync is already running"))
        return _sync(until=until, lookback_days=lookback_days, platforms=platforms, progress=progress)


def _sync(
    *, until: date | None, lookback_days: int | None, platforms: list[str] | None, progress: Any
) -> SyncResult:
    settings = current_settings()
    lookback = settings.metrics_lookback_days if lookback_days is None else lookback_days
    until = until or today()
    targets = [
        plan(pc, until=until, lookback=lookback)
        for pc in campaigns_to_sync(lookback_days=lookback, platforms=platforms)
    ]
    db.session.commit()  # the plans are plain values: nothing below reloads an expired ORM object
    by_platform: dict[str, list[SyncTarget]] = defaultdict(list)
    for target in targets:
        by_platform[target.platform].append(target)
    result = SyncResult(platform_campaigns=len(targets))
    for platform, platform_targets in by_platform.items():
        result.platforms[platform] = {"platform_campaigns": len(platform_targets), "rows": 0}
    window: set[date] = set()
    done = 0
    fetched_batches = fetch_concurrently(by_platform, until)
    with closing(fetched_batches):  # a failed write stops the reading threads at once
        for platform, batch, fetched in fetched_batches:
            _store(result, platform, batch, fetched, until=until, window=window)
            done += len(batch)
            if progress:
                progress(f"{platform}: {done}/{len(targets)}", 100.0 * done / max(1, len(targets)))
    # The day totals of every day read, once: a campaign's rollups are refreshed as it is synced,
    # the totals across all campaigns would cost a scan of those days' rollups per campaign. Days
    # read but unchanged are included, so a sync that died before this line is healed by the next.
    refresh_day_totals(sorted(window))
    db.session.commit()
    return result


def _store(
    result: SyncResult,
    platform: str,
    batch: list[SyncTarget],
    fetched: list[InsightRow] | PlatformError,
    *,
    until: date,
    window: set[date],
) -> None:
    info = result.platforms[platform]
    if isinstance(fetched, PlatformError):
        _record_failure(info, platform, batch, fetched)
        return
    written = write_batch(batch, fetched, until=until, window=window)
    info["rows"] += written
    result.rows += written


def _record_failure(info: dict[str, Any], platform: str, batch: list[SyncTarget], exc: PlatformError) -> None:
    info["error"] = str(exc).removeprefix(f"{platform}: ")  # the platform is the key
    info["error_class"] = type(exc).__name__
    hint = getattr(exc, "retry_after", None)
    if hint:  # a wait the transport did not sleep: the task retries after it
        info["retry_after"] = max(float(hint), float(info.get("retry_after", 0)))
    info.setdefault("failed_campaigns", []).extend(target.campaign_id for target in batch)
    logger.warning(
        "metrics sync %s campaigns %s failed: %s", platform, [t.campaign_id for t in batch][:10], exc
    )


@dataclass(frozen=True)
class SyncTarget:
    """What the sync needs of one platform campaign, read once before any commit."""

    pc_id: int
    campaign_id: int
    platform: str
    start: date  # first day to read (the campaign's start, or the last sync minus the lookback)
    result: PublishResult
    groups: dict[str, tuple[int, int | None]]  # external ad group id -> (ad group id, segment id)


def plan(pc: PlatformCampaign, *, until: date, lookback: int) -> SyncTarget:
    start = pc.campaign.start_date
    if pc.last_synced_at is not None:
        # The window's end is the local today: its start counts from the local day of the last
        # sync too (the UTC date runs a day ahead from 19:00 in Bogotá).
        start = max(start, local_date(pc.last_synced_at) - timedelta(days=lookback))
    published = PublishResult.from_dict(pc.external_ids)
    groups: dict[str, tuple[int, int | None]] = {}
    for group in pc.ad_groups:  # the id we published under the group's ref first, as before
        external = published.ad_groups.get(ad_group_ref(group))
        if external:
            groups[str(external)] = (group.id, group.segment_id)
    for group in pc.ad_groups:
        if group.external_id:
            groups.setdefault(str(group.external_id), (group.id, group.segment_id))
    return SyncTarget(pc.id, pc.campaign_id, pc.platform, start, published, groups)


def batches(targets: list[SyncTarget], size: int, until: date) -> list[list[SyncTarget]]:
    """Targets with the same window, in groups of at most ``size`` (one report request each)."""
    by_start: dict[date, list[SyncTarget]] = defaultdict(list)
    for target in targets:
        if target.start <= until:
            by_start[target.start].append(target)
    size = max(1, size)
    return [same[i : i + size] for _, same in sorted(by_start.items()) for i in range(0, len(same), size)]


Fetched = tuple[str, list[SyncTarget], list[InsightRow] | PlatformError]


def fetch_concurrently(
    by_platform: dict[str, list[SyncTarget]], until: date
) -> Generator[Fetched, None, None]:
    """Each platform's reports read in its own thread (one adapter each, batches in order), handed
    to the caller as they arrive: the platforms' latencies overlap one another and the database
    writes, which stay on the caller's thread and session. A platform's error ends only its batch."""
    adapters = {platform: adapter_for(platform)[0] for platform in by_platform}
    out: queue.Queue[Fetched | tuple[str, None, BaseException | None]] = queue.Queue(maxsize=8)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, len(adapters)), thread_name_prefix="metrics-fetch") as pool:
        for platform, targets in by_platform.items():
            work = batches(targets, adapters[platform].report_batch, until)
            pool.submit(_fetch_platform, adapters[platform], platform, work, until, out, stop)
        try:
            running = len(adapters)
            while running:
                platform, batch, fetched = out.get()
                if batch is None:  # that platform's thread is done (with the error that ended it)
                    running -= 1
                    if isinstance(fetched, BaseException):
                        raise fetched
                    continue
                yield platform, batch, fetched  # type: ignore[misc]
        finally:
            stop.set()  # threads still reading stop after their current request


def _fetch_platform(
    adapter: Any,
    platform: str,
    work: list[list[SyncTarget]],
    until: date,
    out: queue.Queue[Any],
    stop: threading.Event,
) -> None:
    ended: BaseException | None = None
    pending = list(work)
    try:
        with adapter:
            while pending and not stop.is_set():
                try:
                    fetched: list[InsightRow] | PlatformError = fetch_batch(adapter, pending[0], until=until)
                except PlatformError as exc:
                    fetched = exc
                _put(out, (platform, pending.pop(0), fetched), stop)
    except PlatformError as exc:  # e.g. from opening or closing the adapter: what is left fails with it
        for batch in pending:
            _put(out, (platform, batch, exc), stop)
    except BaseException as exc:  # handed to the caller's thread, which raises it
        ended = exc
    finally:
        _put(out, (platform, None, ended), stop)


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.5)
            return
        except queue.Full:
            continue


def fetch_batch(adapter: Any, batch: list[SyncTarget], *, until: date, many: bool = True) -> list[InsightRow]:
    """One window's rows of these platform campaigns: one report where the adapter batches
    (``many``), else the single campaign's own report."""
    results = [target.result for target in batch]
    if many:
        return list(adapter.fetch_insights_many(results, batch[0].start, until))
    return list(adapter.fetch_insights(results[0], batch[0].start, until))


def write_batch(
    batch: list[SyncTarget], insights: list[InsightRow], *, until: date, window: set[date]
) -> int:
    """These platform campaigns' rows in one upsert with its rollups; marked synced; committed."""
    start = batch[0].start
    window.update(start + timedelta(days=n) for n in range((until - start).days + 1))
    index = {external: (target, group) for target in batch for external, group in target.groups.items()}
    rows = []
    for row in insights:
        found = index.get(str(row.ad_group_id))
        if found is None:
            logger.warning("insight row for unknown ad group %s on %s", row.ad_group_id, batch[0].platform)
            continue
        target, (group_id, segment_id) = found
        rows.append(
            (
                group_id,
                row.date,
                target.pc_id,
                target.campaign_id,
                target.platform,
                segment_id,
                row.impressions,
                row.reach or 0,
                row.clicks,
                row.engagements,
                row.spend_micros,
                row.applications,
            )
        )
    written = upsert_metrics(rows, day_totals=False)
    db.session.execute(
        update(PlatformCampaign)
        .where(PlatformCampaign.id.in_([target.pc_id for target in batch]))
        .values(last_synced_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return written
