"""The system-health page's facts: everything the daily checklist asks, read once, never raising.

Built on `health.status_summary` (the same checks `/readyz` and `adflux status` use) plus what the
alert rules read: web processes and workers per queue (`monitoring.instances`), queue depth, the
scheduler's sign of life (the last full alert evaluation, sent by beat every minute), platform
quota headroom and token expiry, the last backup, the active model and its drift, open alerts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adflux.constants import QUEUES
from adflux.monitoring import instances
from adflux.services import health
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

# Beat sends the evaluation every minute: three missed minutes means the scheduler is not running.
BEAT_STALE_SECONDS = 180


@dataclass
class SystemHealth:
    """One snapshot for the page, with a verdict per part ("ok", "degraded", "fail", "unknown")."""

    status: str
    checked_at: datetime
    checks: list[dict[str, Any]]
    platforms: list[dict[str, Any]]
    queues: list[dict[str, Any]]
    web_processes: list[str] | None
    beat: dict[str, Any]
    model: dict[str, Any] | None
    last_backup: dict[str, Any] | None
    alerts: list[dict[str, Any]]
    tasks_last_24h: dict[str, int]
    embedded: bool = False
    notes: list[str] = field(default_factory=list)


def system_health(*, fresh: bool = False) -> SystemHealth:
    """Read every part of the system's health for the page (a failing part says so, never raises)."""
    settings = current_settings()
    summary = health.status_summary(workers=False, fresh=fresh)
    embedded = instances.redis_client(settings) is None
    checks = [c for c in summary["checks"] if not c["name"].startswith("platform:")]
    platforms = [_platform(c) for c in summary["checks"] if c["name"].startswith("platform:")]
    workers = _read(lambda: instances.workers_by_queue(settings, QUEUES, fresh=fresh), {})
    depth = summary["queues"] or {}
    queues = [
        {
            "name": queue,
            "waiting": depth.get(queue),
            "workers": workers.get(queue, []),
            "status": _queue_status(len(workers.get(queue, [])), settings.alert_min_workers_per_queue),
        }
        for queue in QUEUES
    ]
    web = _read(lambda: instances.web_processes(settings), None)
    return SystemHealth(
        status=summary["status"],
        checked_at=summary["checked_at"],
        checks=checks,
        platforms=platforms,
        queues=[] if embedded else queues,
        web_processes=web,
        beat=_beat(settings, embedded),
        model=summary["model"],
        last_backup=summary["last_backup"],
        alerts=summary["alerts"],
        tasks_last_24h=summary["tasks_last_24h"],
        embedded=embedded,
    )


def _read(read: Callable[[], Any], default: Any) -> Any:
    try:
        return read()
    except Exception as exc:  # a broker that is down: this part reads "unknown", the page still shows
        logger.warning("system health: %s: %s", type(exc).__name__, str(exc).splitlines()[:1])
        return default


def _queue_status(workers: int, minimum: int) -> str:
    return health.OK if workers >= max(minimum, 1) else health.FAIL


def _platform(check: dict[str, Any]) -> dict[str, Any]:
    data = check.get("data") or {}
    expires = data.get("token_expires_at")
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    days_left = (expires - datetime.now(UTC)).days if isinstance(expires, datetime) else None
    return {
        "platform": check["name"].split(":", 1)[1],
        "status": check["status"],
        "detail": check["detail"],
        "sandbox": bool(data.get("sandbox")),
        "api_version": data.get("api_version"),
        "quota_used": None if data.get("throttle_headroom") is None else 1 - data["throttle_headroom"],
        "token_expires_at": expires,
        "token_days_left": days_left,
    }


def _beat(settings: Any, embedded: bool) -> dict[str, Any]:
    if embedded:
        return {"status": health.OK, "last_run": None, "embedded": True}
    last = _read(lambda: instances.last_evaluated(settings), None)
    if last is None:
        return {"status": health.UNKNOWN, "last_run": None, "embedded": False}
    age = time.time() - last
    return {
        "status": health.OK if age <= BEAT_STALE_SECONDS else health.FAIL,
        "last_run": datetime.fromtimestamp(last, UTC),
        "age_seconds": round(age),
        "embedded": False,
    }
