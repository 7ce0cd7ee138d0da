"""Counters that slow callers down: per API token per minute, and per sign-in key with a growing delay.

The counters live in Redis (ADFLUX_RATE_LIMIT_REDIS_URL, else the Celery broker when it is Redis)
so every gunicorn worker and every machine shares them; each decision is one Lua script, atomic
even for requests that arrive at the same instant. Without Redis (the embedded default, one
process) they live in this process behind a lock, with the same rules.

If Redis stops answering, requests are let through (and logged): the limits slow abuse, they must
not take the service down with the broker.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from adflux.monitoring.broker import is_redis_url
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "adflux:limit:"

# KEYS[1] = counter; ARGV = limit, window_ms, now_ms. Returns {count, ms until the window ends}.
_WINDOW_SCRIPT = """
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local slot = math.floor(now / window)
local key = KEYS[1] .. ':' .. slot
local count = redis.call('INCR', key)
if count == 1 then redis.call('PEXPIRE', key, window) end
return {count, (slot + 1) * window - now}
"""

# KEYS[1] = hash {f = failures, t = last attempt ms}; ARGV = free, cap_ms, now_ms, ttl_ms.
# Returns ms to wait (0 = the attempt may go ahead, and is counted as a failure until reset).
_CLAIM_SCRIPT = """
local free = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local wait = 0
if f >= free then wait = math.min(cap, 1000 * 2 ^ (f - free)) end
if wait > 0 and now < t + wait then return t + wait - now end
redis.call('HSET', KEYS[1], 'f', f + 1, 't', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0
"""

# KEYS[1] = the same hash: one attempt turned out not to be a failure (a successful sign-in).
_REFUND_SCRIPT = """
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if f > 0 then redis.call('HSET', KEYS[1], 'f', f - 1) end
return 0
"""


def backoff_ms(failures: int, free: int, cap_ms: int) -> int:
    """The wait after `failures` failures: none for the first `free`, then 1 s doubling to the cap."""
    if failures < free:
        return 0
    return int(min(cap_ms, 1000 * 2 ** min(failures - free, 40)))


class CounterStore(Protocol):
    def window_hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[int, int]: ...
    def claim(self, key: str, free: int, cap_ms: int, now_ms: int, ttl_ms: int) -> int: ...
    def refund(self, key: str) -> None: ...
    def reset(self, key: str) -> None: ...


class MemoryStore:
    """The counters of one process (no Redis): the same rules, behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (slot, count)
        self._claims: dict[str, tuple[int, int, int]] = {}  # key -> (failures, last ms, expires ms)

    def window_hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[int, int]:
        slot = now_ms // window_ms
        with self._lock:
            seen_slot, count = self._windows.get(key, (slot, 0))
            count = count + 1 if seen_slot == slot else 1
            self._windows[key] = (slot, count)
            if len(self._windows) > 100_000:  # old windows of idle tokens
                self._windows = {k: v for k, v in self._windows.items() if v[0] == slot}
        return count, (slot + 1) * window_ms - now_ms

    def claim(self, key: str, free: int, cap_ms: int, now_ms: int, ttl_ms: int) -> int:
        with self._lock:
            failures, last, expires = self._claims.get(key, (0, 0, 0))
            if expires <= now_ms:
                failures, last = 0, 0
            wait = backoff_ms(failures, free, cap_ms)
            if wait and now_ms < last + wait:
                return last + wait - now_ms
            self._claims[key] = (failures + 1, now_ms, now_ms + ttl_ms)
            return 0

    def refund(self, key: str) -> None:
        with self._lock:
            failures, last, expires = self._claims.get(key, (0, 0, 0))
            if failures > 0:
                self._claims[key] = (failures - 1, last, expires)

    def reset(self, key: str) -> None:
        with self._lock:
            self._claims.pop(key, None)


class RedisStore:
    """Counters in Redis, shared by every process; each decision is one atomic script."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._window = client.register_script(_WINDOW_SCRIPT)
        self._claim = client.register_script(_CLAIM_SCRIPT)
        self._refund = client.register_script(_REFUND_SCRIPT)

    def window_hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[int, int]:
        count, left = self._window(keys=[KEY_PREFIX + key], args=[limit, window_ms, now_ms])
        return int(count), int(left)

    def claim(self, key: str, free: int, cap_ms: int, now_ms: int, ttl_ms: int) -> int:
        return int(self._claim(keys=[KEY_PREFIX + key], args=[free, cap_ms, now_ms, ttl_ms]))

    def refund(self, key: str) -> None:
        self._refund(keys=[KEY_PREFIX + key])

    def reset(self, key: str) -> None:
        self._client.delete(KEY_PREFIX + key)


_stores: dict[str, CounterStore] = {}
_stores_lock = threading.Lock()


def redis_url(settings: Settings) -> str | None:
    """The Redis that holds the counters, or None (counters per process)."""
    if settings.rate_limit_redis_url:
        return settings.rate_limit_redis_url
    broker = settings.celery_broker_url
    return broker if is_redis_url(broker) else None


def store(settings: Settings | None = None) -> CounterStore:
    """The counter store for these settings (one per Redis URL, or one per process)."""
    url = redis_url(settings or current_settings()) or "memory://"
    with _stores_lock:
        found = _stores.get(url)
        if found is None:
            if url == "memory://":
                found = MemoryStore()
            else:
                import redis

                found = RedisStore(redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0))
            _stores[url] = found
        return found


def forget_stores() -> None:
    """Drop every store (tests: start from empty counters)."""
    with _stores_lock:
        _stores.clear()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused

    @classmethod
    def wait(cls, ms: int) -> Verdict:
        return cls(False, max(1, math.ceil(ms / 1000)))


def check_token_rate(token_id: int, settings: Settings | None = None) -> Verdict:
    """One API call by token `token_id`: allowed, or refused with the seconds until the next minute."""
    settings = settings or current_settings()
    limit = settings.api_rate_limit_per_minute
    if limit <= 0:
        return Verdict(True)
    try:
        count, left_ms = store(settings).window_hit(f"token:{token_id}", limit, 60_000, now_ms())
    except Exception as exc:  # Redis down: let the call through rather than fail it
        logger.warning("API rate limit not checked (counter store unavailable: %s)", exc)
        return Verdict(True)
    return Verdict(True) if count <= limit else Verdict.wait(left_ms)
