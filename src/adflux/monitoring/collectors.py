"""Scrape-time collectors: facts about shared state, read fresh whenever Prometheus scrapes.

They run inside the `/metrics` request. Each part is guarded on its own: a broker that is down or
a table that does not exist yet (an older schema) costs that part only, and
`adflux_scrape_collector_success{collector}` says which parts answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from prometheus_client.core import GaugeMetricFamily, Metric

from adflux import kpis
from adflux.constants import QUEUES
from adflux.monitoring import facts, instances, pacing_facts
from adflux.monitoring.broker import queue_lengths, redis_client
from adflux.settings import Settings, current_settings, parse_api_version_sunsets

logger = logging.getLogger(__name__)

Part = Callable[[Settings], list[Metric]]


def _queues(settings: Settings) -> list[Metric]:
    if redis_client(settings) is None:
        return []  # embedded mode: tasks run inline, there is no queue to measure

    up = GaugeMetricFamily("adflux_celery_broker_up", "Whether the Celery broker answered (1) or not (0).")
    length = GaugeMetricFamily(
        "adflux_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    try:
        lengths = queue_lengths(settings, QUEUES)
    except Exception as exc:  # a dead broker is a fact to report, not a scrape failure
        logger.debug("broker unavailable for queue lengths: %s", exc)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    for queue, n in lengths.items():
        length.add_metric([queue], n)
    return [up, length]


def _models(settings: Settings) -> list[Metric]:
    found = facts.model_facts()
    versions = GaugeMetricFamily(
        "adflux_model_versions", "Segmentation model versions by status.", labels=["status"]
    )
    for status, n in sorted(found.versions_by_status.items()):
        versions.add_metric([status], n)
    out: list[Metric] = [versions]
    if found.active_version is None:
        return out
    active = GaugeMetricFamily(
        "adflux_model_active_version", "Version number of the active segmentation model."
    )
    active.add_metric([], found.active_version)
    out.append(active)
    label = [str(found.active_version)]
    if found.silhouette is not None:
        silhouette = GaugeMetricFamily(
            "adflux_model_silhouette", "Silhouette score of the active model.", labels=["version"]
        )
        silhouette.add_metric(label, found.silhouette)
        out.append(silhouette)
    if found.drift is not None:
        drift = GaugeMetricFamily(
            "adflux_model_drift",
            "Largest population stability index between training data and today's candidates.",
            labels=["version"],
        )
        drift.add_metric(label, found.drift)
        out.append(drift)
    if found.activated_at is not None:
        since = GaugeMetricFamily(
            "adflux_model_active_since_timestamp_seconds", "When the active model was promoted."
        )
        since.add_metric([], found.activated_at.timestamp())
        out.append(since)
    return out


def _campaigns(settings: Settings) -> list[Metric]:
    counts = GaugeMetricFamily("adflux_campaigns", "Campaigns by status.", labels=["status"])
    for status, n in sorted(facts.campaign_counts().items()):
        counts.add_metric([status], n)
    incomplete = GaugeMetricFamily(
        "adflux_campaigns_action_incomplete",
        "Campaigns whose last pause, resume, complete or archive reached only some platforms.",
        value=len(facts.campaigns_with_incomplete_actions()),
    )
    sync_failures = GaugeMetricFamily(
        "adflux_metrics_sync_consecutive_failures",
        "Metrics syncs that failed in a row, newest first (0 after a success).",
        value=facts.metrics_sync_health().consecutive_failures,
    )
    spend = GaugeMetricFamily(
        "adflux_campaign_spend_pesos",
        "Ad spend in Colombian pesos, by platform and period.",
        labels=["platform", "period"],
    )
    applications = GaugeMetricFamily(
        "adflux_campaign_applications",
        "Applications attributed to ads, by platform and period.",
        labels=["platform", "period"],
    )
    today = datetime.now(UTC).date()
    for period, since in (("today", today), ("last_30_days", today - timedelta(days=29))):
        for platform, (pesos, apps) in sorted(facts.spend_by_platform(since=since).items()):
            spend.add_metric([platform, period], pesos)
            applications.add_metric([platform, period], apps)
    cpa = GaugeMetricFamily(
        "adflux_campaign_cpa_pesos",
        f"Cost per application of each active campaign over {settings.alert_cpa_window_days} days"
        " (before its first application: the spend, the least it can be).",
        labels=["campaign_id"],
    )
    target = GaugeMetricFamily(
        "adflux_campaign_target_cpa_pesos",
        "Target cost per application of each active campaign.",
        labels=["campaign_id"],
    )
    for row in facts.campaign_cpas(window_days=settings.alert_cpa_window_days):
        if row.spend_pesos > 0:
            cpa.add_metric([str(row.campaign_id)], kpis.cpa_at_least(row.spend_pesos, row.applications))
        target.add_metric([str(row.campaign_id)], row.target_cpa)
    feeds = GaugeMetricFamily(
        "adflux_job_feeds_failing",
        "Enabled job feeds whose last run failed (unreachable, broken or suddenly much smaller).",
        value=len(facts.failing_feeds()),
    )
    awaiting = GaugeMetricFamily(
        "adflux_campaigns_awaiting_approval",
        "Campaigns a playbook made that wait for a manager's approval.",
        value=len(facts.campaigns_awaiting_approval()),
    )
    return [counts, incomplete, sync_failures, spend, applications, cpa, target, feeds, awaiting]


def _platforms(settings: Settings) -> list[Metric]:
    expiry = GaugeMetricFamily(
        "adflux_platform_token_expiry_timestamp_seconds",
        "When each active platform account's access token expires.",
        labels=["platform", "account_id"],
    )
    sunset = GaugeMetricFamily(
        "adflux_platform_api_version_sunset_timestamp_seconds",
        "When the API version an active account uses stops working (where known).",
        labels=["platform", "version"],
    )
    sunsets = parse_api_version_sunsets(settings.api_version_sunsets)
    seen: set[tuple[str, str]] = set()
    for account in facts.platform_accounts():
        if account.token_expires_at is not None:
            expiry.add_metric([account.platform, str(account.id)], account.token_expires_at.timestamp())
        version = account.api_version or facts.default_api_version(account.platform)
        key = (account.platform, version or "")
        if version and key in sunsets and key not in seen:
            seen.add(key)
            when = datetime.combine(sunsets[key], datetime.min.time(), tzinfo=UTC)
            sunset.add_metric(list(key), when.timestamp())
    return [expiry, sunset]


def _database(settings: Settings) -> list[Metric]:
    out: list[Metric] = []
    connections = facts.database_connections()
    if connections is not None:
        in_use = GaugeMetricFamily(
            "adflux_db_connections", "Client connections open on the PostgreSQL server."
        )
        in_use.add_metric([], connections.in_use)
        limit = GaugeMetricFamily("adflux_db_max_connections", "PostgreSQL max_connections.")
        limit.add_metric([], connections.max_connections)
        out += [in_use, limit]
    alerts = GaugeMetricFamily(
        "adflux_alerts_open", "Open AdFlux alerts by rule and severity.", labels=["rule", "severity"]
    )
    for (rule, severity), n in sorted(facts.open_alert_counts().items()):
        alerts.add_metric([rule, severity], n)
    out.append(alerts)
    return out


def _disks(settings: Settings) -> list[Metric]:
    free = GaugeMetricFamily(
        "adflux_disk_free_bytes", "Free space where AdFlux keeps data.", labels=["volume"]
    )
    size = GaugeMetricFamily(
        "adflux_disk_size_bytes", "Size of the file system where AdFlux keeps data.", labels=["volume"]
    )
    for volume, (free_bytes, total) in sorted(facts.disk_usage(settings).items()):
        free.add_metric([volume], free_bytes)
        size.add_metric([volume], total)
    return [free, size]


def _instances(settings: Settings) -> list[Metric]:
    web = instances.web_processes(settings)
    if web is None:
        return []  # embedded mode: one process does everything
    count = GaugeMetricFamily(
        "adflux_instances",
        "Live AdFlux instances: web processes (heartbeat) and Celery workers consuming each queue.",
        labels=["kind", "queue"],
    )
    count.add_metric(["web", ""], len(web))
    for queue, workers in instances.workers_by_queue(settings, QUEUES).items():
        count.add_metric(["worker", queue], len(workers))
    return [count]


def _pacing(settings: Settings) -> list[Metric]:
    pacing = GaugeMetricFamily(
        "adflux_campaign_pacing_ratio",
        "Spend so far over what the campaign's pacing plan meant to spend by now (1 = on plan), for"
        " live campaigns with an end date or with pacing on.",
        labels=["campaign_id"],
    )
    local_today = datetime.now(ZoneInfo(settings.timezone)).date()
    for pace in pacing_facts.campaign_paces(today=local_today):
        if "ended" not in pace.warnings and pace.planned_to_date > 0:
            pacing.add_metric([str(pace.campaign_id)], round(pace.pace, 4))
    return [pacing]


PARTS: dict[str, Part] = {
    "queues": _queues,
    "instances": _instances,
    "models": _models,
    "campaigns": _campaigns,
    "pacing": _pacing,
    "platforms": _platforms,
    "database": _database,
    "disks": _disks,
}


class ScrapeCollector:
    """Runs every part for one app; a failing part is logged and reported, never fatal."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        settings = current_settings(self.app)
        success = GaugeMetricFamily(
            "adflux_scrape_collector_success",
            "Whether a scrape-time collector answered.",
            labels=["collector"],
        )
        duration = GaugeMetricFamily(
            "adflux_scrape_collector_duration_seconds",
            "Time a scrape-time collector took.",
            labels=["collector"],
        )
        with self.app.app_context():
            for name, part in PARTS.items():
                started = time.perf_counter()
                try:
                    metrics: list[Metric] = part(settings)
                except Exception as exc:
                    # Missing tables (older schema), a database restart: report it, keep the rest.
                    logger.warning("metrics collector %s failed: %s", name, _first_line(exc))
                    success.add_metric([name], 0)
                    metrics = []
                else:
                    success.add_metric([name], 1)
                duration.add_metric([name], time.perf_counter() - started)
                yield from metrics
        yield success
        yield duration


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def scrape_collectors(app: Flask) -> list[Any]:
    """The collectors `/metrics` adds to the process-counted metrics."""
    return [ScrapeCollector(app)]
