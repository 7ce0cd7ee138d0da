"""Cheap reads of shared state, used alike by `/metrics`, `/readyz` and the alert evaluator.

Each function runs one or two small aggregate queries on its own connection (so a missing table
on PostgreSQL cannot poison a caller's transaction) and returns plain data.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, text

from adflux import kpis
from adflux.extensions import db
from adflux.models import Alert, Campaign, FeedRun, JobFeed, TaskRun
from adflux.models import Campaign as C
from adflux.models import MetricDaily as D
from adflux.models import PlatformAccount as A
from adflux.models import PlatformCampaign as P
from adflux.models import SegmentationModel as M
from adflux.platforms.adapters import adapter_classes
from adflux.settings import Settings

ACTIVE_CAMPAIGN_STATUSES = ("active", "partially_active")
MICROS_PER_PESO = 1_000_000


# ---- segmentation model ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFacts:
    """The model versions by status and the active one's quality."""

    versions_by_status: dict[str, int]
    active_version: int | None = None
    silhouette: float | None = None
    drift: float | None = None
    activated_at: datetime | None = None


def drift_score(drift: Any) -> float | None:
    """One number for a model's drift record (the largest population stability index).

    Accepts the shapes the drift report may take: a number; {"score"|"max_psi"|"psi": x};
    {"psi": {feature: x}}; {"features": {feature: x | {"psi": x}}} or a list of such dicts.
    """
    if isinstance(drift, int | float) and not isinstance(drift, bool):
        return float(drift) if math.isfinite(drift) else None
    if not isinstance(drift, dict):
        return None
    for key in ("score", "max_psi", "overall_psi"):
        if isinstance(drift.get(key), int | float):
            return float(drift[key])
    values: list[float] = []
    for key in ("psi", "features", "per_feature"):
        values.extend(_psi_values(drift.get(key)))
    shares = drift.get("segment_shares") or drift.get("share_shift")
    if isinstance(shares, dict) and isinstance(shares.get("psi"), int | float):
        values.append(float(shares["psi"]))
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else None


def _psi_values(node: Any) -> Iterable[float]:
    if isinstance(node, int | float) and not isinstance(node, bool):
        yield float(node)
    elif isinstance(node, dict):
        for value in node.values():
            if isinstance(value, dict):
                if isinstance(value.get("psi"), int | float):
                    yield float(value["psi"])
            elif isinstance(value, int | float) and not isinstance(value, bool):
                yield float(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict) and isinstance(item.get("psi"), int | float):
                yield float(item["psi"])


def model_facts() -> ModelFacts:
    """Model versions by status and the active version's silhouette and drift."""

    with db.engine.connect() as conn:
        counts = dict(conn.execute(select(M.status, func.count()).group_by(M.status)).all())
        row = conn.execute(
            select(M.version, M.silhouette, M.drift, M.activated_at)
            .where(M.status == "active")
            .order_by(M.activated_at.desc().nulls_last(), M.version.desc())
            .limit(1)
        ).first()
    if row is None:
        return ModelFacts(versions_by_status=counts)
    return ModelFacts(
        versions_by_status=counts,
        active_version=row.version,
        silhouette=row.silhouette,
        drift=drift_score(row.drift),
        activated_at=row.activated_at,
    )


# ---- campaigns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCpa:
    """One active campaign's cost per application over a window, beside its target."""

    campaign_id: int
    name: str
    spend_pesos: float
    applications: int
    target_cpa: int

    @property
    def cpa(self) -> float | None:
        """Cost per application (None before the first application), as every report computes it."""
        return kpis.cpa(self.spend_pesos, self.applications)


def campaign_counts() -> dict[str, int]:
    """Campaigns by status."""

    with db.engine.connect() as conn:
        return dict(conn.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all())


def spend_by_platform(*, since: date) -> dict[str, tuple[float, int]]:
    """(spend in pesos, applications) per platform from `since` (inclusive) to today."""

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(
                D.platform,
                func.coalesce(func.sum(D.spend_micros), 0),
                func.coalesce(func.sum(D.applications), 0),
            )
            .where(D.date >= since)
            .group_by(D.platform)
        ).all()
    return {platform: (int(spend) / MICROS_PER_PESO, int(apps)) for platform, spend, apps in rows}


def campaign_cpas(*, window_days: int, today: date | None = None) -> list[CampaignCpa]:
    """Active campaigns with a target CPA and their CPA over the last `window_days` days."""

    since = (today or datetime.now(UTC).date()) - timedelta(days=window_days - 1)
    stmt = (
        select(
            C.id,
            C.name,
            C.target_cpa,
            func.coalesce(func.sum(D.spend_micros), 0),
            func.coalesce(func.sum(D.applications), 0),
        )
        .join(D, and_(D.campaign_id == C.id, D.date >= since), isouter=True)
        .where(C.status.in_(ACTIVE_CAMPAIGN_STATUSES), C.target_cpa.is_not(None), C.target_cpa > 0)
        .group_by(C.id, C.name, C.target_cpa)
    )
    with db.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        CampaignCpa(
            campaign_id=cid,
            name=name,
            spend_pesos=int(spend) / MICROS_PER_PESO,
            applications=int(apps),
            target_cpa=int(target),
        )
        for cid, name, target, spend, apps in rows
        if target is not None  # never NULL (the WHERE above); says so to the type checker
    ]


# ---- platform accounts -----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFacts:
    """What operations needs to know about one active platform account."""

    id: int
    platform: str
    name: str
    api_version: str | None
    token_expires_at: datetime | None
    is_sandbox: bool


def platform_accounts() -> list[AccountFacts]:
    """Active platform accounts (credentials are never read here)."""

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(A.id, A.platform, A.name, A.api_version, A.token_expires_at, A.is_sandbox)
            .where(A.active.is_(True))
            .order_by(A.platform, A.id)
        ).all()
    return [AccountFacts(*row) for row in rows]


def default_api_version(platform: str) -> str | None:
    """The API version an adapter uses when its account does not pin one."""
    try:
        cls = adapter_classes().get(platform)
    except Exception:  # adapters still being written, or an import error: no opinion
        return None
    return getattr(cls, "default_api_version", None) if cls else None


def recent_throttled_publications(*, since: datetime) -> dict[str, int]:
    """Platform publications left failed by throttling since `since`, per platform."""

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(P.platform, func.count())
            .where(P.error_class == "throttled", P.updated_at >= since)
            .group_by(P.platform)
        ).all()
    return dict(rows)


# ---- database server -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionFacts:
    """Client connections to the PostgreSQL server against its limit."""

    in_use: int
    max_connections: int

    @property
    def ratio(self) -> float:
        return self.in_use / self.max_connections if self.max_connections else 0.0


def database_connections() -> ConnectionFacts | None:
    """Client backends vs max_connections on PostgreSQL; None on SQLite."""
    if db.engine.dialect.name != "postgresql":
        return None
    with db.engine.connect() as conn:
        in_use = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        ).scalar_one()
        limit = conn.execute(text("SELECT current_setting('max_connections')::int")).scalar_one()
    return ConnectionFacts(in_use=int(in_use), max_connections=int(limit))


def database_is_local() -> bool:
    """Whether the database runs on this machine (SQLite, or PostgreSQL on loopback/socket)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return True
    return (url.host or "localhost") in ("localhost", "127.0.0.1", "::1") or str(url.host).startswith("/")


def cpu_load_ratio() -> float | None:
    """This host's 1-minute load average per CPU (None where the OS does not expose it)."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (OSError, AttributeError):
        return None


# ---- alerts ----------------------------------------------------------------------------------


def open_alert_counts() -> dict[tuple[str, str], int]:
    """Open alerts by (rule, severity)."""

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Alert.rule, Alert.severity, func.count())
            .where(Alert.status == "open")
            .group_by(Alert.rule, Alert.severity)
        ).all()
    return {(rule, severity): n for rule, severity, n in rows}


@dataclass(frozen=True)
class SyncHealth:
    """The latest finished metrics syncs: how the last one ended and how many failed in a row."""

    last_status: str | None
    last_finished_at: datetime | None
    last_error: str | None
    consecutive_failures: int


def metrics_sync_health(*, look_back: int = 50) -> SyncHealth:
    """How the last `look_back` finished metrics syncs went, newest first."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(TaskRun.status, TaskRun.finished_at, TaskRun.error)
            .where(TaskRun.kind == "metrics.sync", TaskRun.status.in_(("succeeded", "failed")))
            .order_by(TaskRun.finished_at.desc())
            .limit(look_back)
        ).all()
    if not rows:
        return SyncHealth(None, None, None, 0)
    failures = 0
    for status, _, _ in rows:
        if status != "failed":
            break
        failures += 1
    status, finished_at, error = rows[0]
    return SyncHealth(status, finished_at, error, failures)


def campaigns_with_incomplete_actions() -> list[tuple[int, str, str]]:
    """(id, name, action) of campaigns whose last action reached only some platforms."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Campaign.id, Campaign.name, Campaign.pending_action)
            .where(Campaign.pending_action.is_not(None))
            .order_by(Campaign.id)
        ).all()
    return [(row[0], row[1], str(row[2])) for row in rows]


def failing_feeds() -> list[tuple[int, str, str | None]]:
    """(id, name, last error) of enabled job feeds whose last run failed."""
    with db.engine.connect() as conn:
        feeds = conn.execute(
            select(JobFeed.id, JobFeed.name)
            .where(JobFeed.enabled.is_(True), JobFeed.last_status == "failed")
            .order_by(JobFeed.id)
        ).all()
        out = []
        for feed_id, name in feeds:
            error = conn.execute(
                select(FeedRun.error)
                .where(FeedRun.feed_id == feed_id, FeedRun.status == "failed")
                .order_by(FeedRun.id.desc())
                .limit(1)
            ).scalar()
            out.append((feed_id, name, error))
    return out


def campaigns_awaiting_approval() -> list[tuple[int, str, int]]:
    """(id, name, total budget) of campaigns a playbook made that wait for a manager's approval."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Campaign.id, Campaign.name, Campaign.budget_total)
            .where(Campaign.approval_status == "pending")
            .order_by(Campaign.id)
        ).all()
    return [(row[0], row[1], int(row[2])) for row in rows]


def task_run_counts(*, since: datetime) -> dict[str, int]:
    """Task runs created since `since`, by status (pending/running/succeeded/failed)."""

    with db.engine.connect() as conn:
        rows = conn.execute(
            select(TaskRun.status, func.count()).where(TaskRun.created_at >= since).group_by(TaskRun.status)
        ).all()
    return dict(rows)


# ---- disks -----------------------------------------------------------------------------------


def storage_paths(settings: Settings) -> dict[str, Path]:
    """Where the database (if a local file), backups and model artifacts live."""
    paths: dict[str, Path] = {}
    uri = settings.database_uri
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        paths["database"] = Path(uri.removeprefix("sqlite:///")).parent
    paths["backups"] = Path(settings.backup_path)
    store = settings.model_store_path
    paths["models"] = Path(store.removeprefix("file://"))
    return paths


def disk_usage(settings: Settings) -> dict[str, tuple[int, int]]:
    """(free bytes, total bytes) of the file system holding each storage path."""
    out: dict[str, tuple[int, int]] = {}
    for volume, path in storage_paths(settings).items():
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent  # not created yet: the disk it will be created on
        try:
            usage = shutil.disk_usage(existing)
        except OSError:
            continue
        out[volume] = (usage.free, usage.total)
    return out
