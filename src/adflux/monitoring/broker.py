"""The Celery broker as operations sees it: a Redis client with short timeouts, and queue keys."""

from __future__ import annotations

import threading
from typing import Any, TypeGuard

from adflux.settings import Settings

# Kombu's Redis transport keeps priority sub-queues as "<queue>\x06\x16<priority>" next to the
# plain list (priority_steps 0, 3, 6, 9); a queue's length is the sum of all four.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def is_redis_url(url: str | None) -> TypeGuard[str]:
    """Whether `url` names a Redis broker (the only broker AdFlux inspects directly)."""
    return url is not None and url.split("://", 1)[0] in ("redis", "rediss", "redis+socket")


def redis_client(settings: Settings, *, timeout: float | None = None) -> Any | None:
    """A shared Redis client for the broker, or None without a Redis broker."""
    url = settings.celery_broker_url
    if not is_redis_url(url):
        return None
    timeout = settings.health_timeout_seconds if timeout is None else timeout
    key = f"{url}|{timeout}"
    with _lock:
        client = _clients.get(key)
        if client is None:
            import redis

            # Short timeouts: a scrape, a probe or the evaluator must not hang on a dead broker.
            client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
            )
            _clients[key] = client
        return client


def queue_lengths(settings: Settings, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each queue (LLEN of the list and its priority sub-lists)."""
    client = redis_client(settings)
    if client is None:
        return {}
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue)
        for step in PRIORITY_STEPS:
            pipe.llen(f"{queue}{PRIORITY_SEPARATOR}{step}")
    counts = pipe.execute()
    per_queue = 1 + len(PRIORITY_STEPS)
    return {queue: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)}
