"""Health: is each thing AdFlux depends on there, and how fast does it answer.

`readiness()` is what `/readyz`, `/api/v1/status`, `adflux status` and the alert evaluator use.
Only the database and the broker are *critical*: without them no request or task can do its
work, so a load balancer should stop sending traffic. The model store and the ad platforms are
reported (status "degraded") but do not fail readiness — taking every web worker out of rotation
because Meta is slow would turn one platform's trouble into a full outage.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, text

from adflux import __version__
from adflux.constants import PLATFORMS, QUEUES
from adflux.extensions import db
from adflux.models import Alert, SegmentationModel
from adflux.monitoring import alert_names, facts
from adflux.monitoring.broker import is_redis_url, queue_lengths, redis_client
from adflux.monitoring.logs import redact_text
from adflux.platforms.transport import RetryPolicy, TransportConfig
from adflux.services import backups
from adflux.services.platform_access import adapter_for
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

OK, FAIL, UNKNOWN, DEGRADED = "ok", "fail", "unknown", "degraded"


@dataclass
class Check:
    """One dependency's answer."""

    name: str
    status: str
    critical: bool
    latency_ms: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class HealthReport:
    """Every check, and the verdict: ok, degraded (a non-critical check failed) or fail."""

    status: str
    checks: list[Check]
    version: str = __version__
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ready(self) -> bool:
        return self.status != FAIL

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ready": self.ready,
            "version": self.version,
            "checked_at": self.checked_at,
            "checks": [asdict(check) for check in self.checks],
        }


def _timed(name: str, critical: bool, probe: Callable[[], tuple[str, str, dict[str, Any]]]) -> Check:
    started = time.perf_counter()
    try:
        status, detail, data = probe()
    except Exception as exc:
        status, detail, data = FAIL, _reason(exc), {}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return Check(name=name, status=status, critical=critical, latency_ms=latency, detail=detail, data=data)


def _reason(exc: BaseException) -> str:
    # First line only, and never the URL with its password: this goes to an unauthenticated probe.

    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact_text(f"{type(exc).__name__}: {message[0] if message else ''}")[:300]


# ---- the checks --------------------------------------------------------------------------------


def check_database() -> Check:
    """SELECT 1 on a fresh pooled connection, and the schema revision."""

    def probe() -> tuple[str, str, dict[str, Any]]:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:  # tests and fresh databases built with create_all have no table
                conn.rollback()
                revision = None
        return OK, db.engine.dialect.name, {"revision": revision}

    return _timed("database", True, probe)


def check_broker() -> Check:
    """PING the Redis broker; without a broker tasks run inline, which is healthy by design."""
    settings = current_settings()

    def probe() -> tuple[str, str, dict[str, Any]]:
        url = settings.celery_broker_url
        if not url:
            return OK, "no broker: tasks run inline (embedded mode)", {"mode": "eager"}
        if is_redis_url(url):
            client = redis_client(settings)
            assert client is not None
            client.ping()
            return OK, "redis", {"mode": "redis"}
        # Another broker kombu supports (e.g. RabbitMQ): connect once with a short timeout.
        from kombu import Connection

        with Connection(url, connect_timeout=settings.health_timeout_seconds) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.health_timeout_seconds)
        return OK, url.split("://", 1)[0], {"mode": "kombu"}

    return _timed("broker", True, probe)


def check_model_store() -> Check:
    """The artifact folder is writable and the active model's artifact is there."""
    settings = current_settings()

    def probe() -> tuple[str, str, dict[str, Any]]:
        store = Path(settings.model_store_path.removeprefix("file://"))
        existing = store
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not os.access(existing, os.W_OK):
            return FAIL, f"{existing} is not writable", {"path": str(store)}
        active = _active_artifact()
        data: dict[str, Any] = {"path": str(store), "exists": store.exists()}
        if active is None:
            return OK, "no active model yet", data
        version, uri = active
        data["active_version"] = version
        artifact = Path(uri.removeprefix("file://"))
        if "://" in uri and not uri.startswith("file://"):
            return OK, f"active model v{version} in remote storage", data
        if not artifact.is_absolute():
            artifact = store / artifact
        if not artifact.exists():
            return FAIL, f"active model v{version} artifact is missing", data
        return OK, f"active model v{version}", data

    return _timed("model_store", False, probe)


def check_metrics_sync() -> Check:
    """How the last metrics sync ended: a failed one (any platform) degrades readiness, says why."""

    def probe() -> tuple[str, str, dict[str, Any]]:
        sync = facts.metrics_sync_health()
        data: dict[str, Any] = {
            "last_status": sync.last_status,
            "last_finished_at": sync.last_finished_at.isoformat() if sync.last_finished_at else None,
            "consecutive_failures": sync.consecutive_failures,
        }
        if sync.last_status is None:
            return OK, "no metrics sync yet", data
        if sync.last_status == "failed":
            times = f" ({sync.consecutive_failures} in a row)" if sync.consecutive_failures > 1 else ""
            return FAIL, f"last sync failed{times}: {sync.last_error or 'no reason recorded'}"[:300], data
        return OK, "last sync succeeded", data

    return _timed("metrics_sync", False, probe)


def _active_artifact() -> tuple[int, str] | None:

    with db.engine.connect() as conn:
        row = conn.execute(
            select(SegmentationModel.version, SegmentationModel.artifact_uri)
            .where(SegmentationModel.status == "active")
            .order_by(SegmentationModel.version.desc())
            .limit(1)
        ).first()
    return (row[0], row[1]) if row else None


# ---- platforms: through the platform layer's own health check, cached ------------------------

_platform_cache: dict[str, tuple[float, Check]] = {}
_platform_lock = threading.Lock()


def _platform_check(app: Flask, platform: str) -> Check:
    with app.app_context():
        settings = current_settings(app)
        # One attempt with the probe's timeout: health must say "slow", not wait out retries.
        config = TransportConfig(
            timeout=_httpx_timeout(settings.health_timeout_seconds), retry=RetryPolicy(max_attempts=1)
        )
        started = time.perf_counter()
        try:
            adapter, account_id = platform_adapter(platform, config)
        except KeyError:  # no adapter registered for this platform yet
            return Check(name=f"platform:{platform}", status=UNKNOWN, critical=False, detail="no adapter")
        except Exception as exc:
            return Check(name=f"platform:{platform}", status=FAIL, critical=False, detail=_reason(exc))
        try:
            report = adapter.health()
        except Exception as exc:
            latency = round((time.perf_counter() - started) * 1000, 2)
            return Check(
                f"platform:{platform}", FAIL, False, latency, _reason(exc), {"account_id": account_id}
            )
        finally:
            adapter.close()
        latency = round((time.perf_counter() - started) * 1000, 2)
        data = {
            "account_id": account_id,
            "sandbox": account_id is None,
            "api_version": report.api_version,
            "token_valid": report.token_valid,
            "token_expires_at": report.token_expires_at,
            "throttle_headroom": report.throttle_headroom,
        }
        return Check(f"platform:{platform}", OK if report.ok else FAIL, False, latency, report.detail, data)


def platform_adapter(platform: str, config: Any) -> tuple[Any, int | None]:
    """The platform layer's adapter for `platform` and its account id (a seam for tests)."""

    return adapter_for(platform, transport_config=config)


def _httpx_timeout(seconds: float) -> Any:
    import httpx

    return httpx.Timeout(seconds, connect=min(seconds, 2.0))


def check_platforms(*, fresh: bool = False) -> list[Check]:
    """Each platform's health through its adapter, in parallel, cached for a minute by default."""
    settings = current_settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    results: dict[str, Check] = {}
    with _platform_lock:
        for platform in PLATFORMS:
            cached = _platform_cache.get(platform)
            if cached and not fresh and now - cached[0] < settings.health_platform_cache_seconds:
                results[platform] = cached[1]
    missing = [p for p in PLATFORMS if p not in results]
    if missing:
        pool = ThreadPoolExecutor(max_workers=len(missing), thread_name_prefix="health")
        futures = {p: pool.submit(_platform_check, app, p) for p in missing}
        deadline = time.monotonic() + settings.health_timeout_seconds * 2 + 1
        for platform, future in futures.items():
            try:
                results[platform] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[platform] = Check(f"platform:{platform}", FAIL, False, None, "timed out")
            except Exception as exc:  # pragma: no cover - _platform_check catches its own errors
                results[platform] = Check(f"platform:{platform}", UNKNOWN, False, None, _reason(exc))
        pool.shutdown(wait=False, cancel_futures=True)
        with _platform_lock:
            for platform in missing:
                _platform_cache[platform] = (time.monotonic(), results[platform])
    return [results[p] for p in PLATFORMS]


def clear_platform_cache() -> None:
    """Forget cached platform answers (tests; after changing an account)."""
    with _platform_lock:
        _platform_cache.clear()


# ---- the verdict -------------------------------------------------------------------------------


def ping_workers(*, timeout: float = 1.0) -> list[str] | None:
    """Names of Celery workers that answered a ping; None in embedded mode (no workers needed)."""
    celery_app = current_app.extensions["celery"]
    if celery_app.conf.task_always_eager:
        return None
    replies = celery_app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def liveness() -> dict[str, Any]:
    """The process is up and serving; touches nothing else."""
    return {"status": OK, "version": __version__, "pid": os.getpid()}


def readiness(*, platforms: bool = True, fresh: bool = False) -> HealthReport:
    """Check every dependency; `platforms=False` skips the (slower, rate-limited) platform calls."""
    checks = [check_database(), check_broker(), check_model_store(), check_metrics_sync()]
    if platforms:
        checks += check_platforms(fresh=fresh)
    if any(c.critical and c.status == FAIL for c in checks):
        status = FAIL
    elif any(c.status == FAIL for c in checks):
        status = DEGRADED
    else:
        status = OK
    for check in checks:
        if check.status == FAIL:
            logger.warning("health check %s failed: %s", check.name, check.detail)
    return HealthReport(status=status, checks=checks)


# ---- the at-a-glance view ----------------------------------------------------------------------


def status_summary(*, workers: bool = True, fresh: bool = False) -> dict[str, Any]:
    """Health plus what an operator looks at next: workers, queues, model, alerts, recent tasks."""
    from datetime import timedelta

    settings = current_settings()
    report = readiness(fresh=fresh)
    summary: dict[str, Any] = report.as_dict()
    summary["workers"] = None
    if workers:
        try:
            summary["workers"] = ping_workers(timeout=min(settings.health_timeout_seconds, 1.0))
        except Exception as exc:
            logger.warning("worker ping failed: %s", _reason(exc))
            summary["workers"] = []
    summary["queues"] = _safe(lambda: queue_lengths(settings, QUEUES), {})
    model = _safe(facts.model_facts, None)
    summary["model"] = (
        {
            "active_version": model.active_version,
            "silhouette": model.silhouette,
            "drift": model.drift,
            "activated_at": model.activated_at,
        }
        if model is not None
        else None
    )
    summary["alerts"] = _safe(_open_alerts, [])
    since = datetime.now(UTC) - timedelta(hours=24)
    summary["tasks_last_24h"] = _safe(lambda: facts.task_run_counts(since=since), {})
    summary["last_backup"] = _safe(_last_backup, None)
    return summary


def _open_alerts() -> list[dict[str, Any]]:

    rows = db.session.scalars(
        select(Alert).where(Alert.status == "open").order_by(Alert.opened_at.desc()).limit(20)
    ).all()
    return [
        {
            "id": a.id,
            "rule": a.rule,
            "key": a.key,
            "severity": a.severity,
            "opened_at": a.opened_at,
            **alert_names.described(
                rule=a.rule, key=a.key, severity=a.severity, message=a.message, details=a.details
            ),
        }
        for a in rows
    ]


def _last_backup() -> dict[str, Any] | None:
    found = backups.list_backups()
    return found[0].as_dict() if found else None


def _safe(read: Callable[[], Any], default: Any) -> Any:
    try:
        return read()
    except Exception as exc:  # one missing part must not hide the rest of the picture
        logger.warning("status: %s", _reason(exc))
        db.session.rollback()
        return default
