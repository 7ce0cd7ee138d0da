"""How many AdFlux instances are alive: web processes by heartbeat, workers per queue, lost workers.

Web processes: each one stamps "host:pid" into a Redis sorted set at most every BEAT_SECONDS,
after a response has been sent (load-balancer probes keep an idle process counted); a process
that has not stamped for STALE_SECONDS no longer counts. Workers: Celery's own
`inspect().active_queues()` broadcast, cached briefly because it waits out its timeout.
Workers seen recently but not answering now are "lost" (the built-in service-down check).
Everything here needs a Redis broker: in the embedded mode there are no separate instances.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from flask import current_app

from adflux.monitoring.broker import redis_client
from adflux.monitoring.request_stats import ClosingAnswer
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

WEB_KEY = "adflux:instances:web"
WORKERS_SEEN_KEY = "adflux:instances:workers-seen"
EVALUATED_KEY = "adflux:alerts:last-evaluated"
BEAT_SECONDS = 15.0
STALE_SECONDS = 60.0
# A worker not seen for this long is forgotten (scaled down on purpose) and stops alerting.
FORGET_WORKER_SECONDS = 24 * 3600
WORKER_CACHE_SECONDS = 30.0

_last_beat = 0.0
_beat_lock = threading.Lock()
_worker_cache: dict[str, tuple[float, dict[str, list[str]]]] = {}


def process_name() -> str:
    """This process as "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def web_heartbeat(response: ClosingAnswer, settings: Settings | None = None) -> None:
    """Stamp this web process alive (at most every BEAT_SECONDS, after the response is sent)."""
    global _last_beat
    now = time.monotonic()
    with _beat_lock:
        if now - _last_beat < BEAT_SECONDS:
            return
        _last_beat = now
    settings = settings or current_settings()
    if redis_client(settings) is not None:
        response.call_on_close(lambda: _stamp(settings))


def _stamp(settings: Settings) -> None:
    try:
        client = redis_client(settings)
        if client is not None:
            client.zadd(WEB_KEY, {process_name(): time.time()})
    except Exception as exc:  # a dead broker is reported by its own check, not by every request
        logger.debug("web heartbeat failed: %s", type(exc).__name__)


def web_processes(settings: Settings, *, now: float | None = None) -> list[str] | None:
    """Web processes that stamped within STALE_SECONDS; None without a Redis broker."""
    client = redis_client(settings)
    if client is None:
        return None
    now = time.time() if now is None else now
    client.zremrangebyscore(WEB_KEY, "-inf", now - STALE_SECONDS)
    return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in client.zrange(WEB_KEY, 0, -1))


def workers_by_queue(
    settings: Settings, queues: tuple[str, ...], *, fresh: bool = False
) -> dict[str, list[str]]:
    """Worker names consuming each queue (every queue listed, [] when none); {} in embedded mode."""
    celery_app = current_app.extensions["celery"]
    if celery_app.conf.task_always_eager or redis_client(settings) is None:
        return {}
    cached = _worker_cache.get(settings.celery_broker_url or "")
    if cached and not fresh and time.monotonic() - cached[0] < WORKER_CACHE_SECONDS:
        return cached[1]
    timeout = min(settings.health_timeout_seconds, 1.0)
    replies: dict[str, Any] = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    found: dict[str, list[str]] = {queue: [] for queue in queues}
    for worker, consumed in replies.items():
        for queue in consumed or []:
            found.setdefault(queue["name"], []).append(worker)
    found = {queue: sorted(workers) for queue, workers in found.items()}
    _worker_cache[settings.celery_broker_url or ""] = (time.monotonic(), found)
    _remember_workers(settings, sorted(replies))
    return found


def _remember_workers(settings: Settings, workers: list[str]) -> None:
    client = redis_client(settings)
    if client is not None and workers:
        now = time.time()
        client.zadd(WORKERS_SEEN_KEY, dict.fromkeys(workers, now))


def lost_workers(settings: Settings, answering: list[str], *, now: float | None = None) -> dict[str, float]:
    """Workers seen within FORGET_WORKER_SECONDS that are not `answering` now: {name: last seen}."""
    client = redis_client(settings)
    if client is None:
        return {}
    now = time.time() if now is None else now
    _remember_workers(settings, answering)
    client.zremrangebyscore(WORKERS_SEEN_KEY, "-inf", now - FORGET_WORKER_SECONDS)
    seen = client.zrange(WORKERS_SEEN_KEY, 0, -1, withscores=True)
    names = {(m.decode() if isinstance(m, bytes) else str(m)): float(s) for m, s in seen}
    return {name: last for name, last in names.items() if name not in answering}


def clear_worker_cache() -> None:
    """Forget the cached worker answer (tests; after scaling)."""
    _worker_cache.clear()


def mark_evaluated(settings: Settings, *, at: float | None = None) -> None:
    """Note that a full alert evaluation ran (beat sends one a minute: its sign of life)."""
    client = redis_client(settings)
    if client is None:
        return
    try:
        client.set(EVALUATED_KEY, str(time.time() if at is None else at))
    except Exception as exc:
        logger.debug("could not note the evaluation: %s", type(exc).__name__)


def last_evaluated(settings: Settings) -> float | None:
    """When the last full alert evaluation ran (epoch seconds); None if never or no Redis broker."""
    client = redis_client(settings)
    raw = client.get(EVALUATED_KEY) if client is not None else None
    return float(raw) if raw else None
