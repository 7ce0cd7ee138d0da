"""One rate budget per platform account shared by every process, held in Redis.

A per-process :class:`~adflux.platforms.ratelimit.TokenBucket` must be given a fixed share of the
account's rate; a process with nothing to send leaves its share unused while the others wait. The
shared bucket keeps one schedule for the whole account instead (GCRA: the "theoretical arrival
time" of the next call), so whichever process has work takes the whole rate.

Each call reserves the next free slot with one atomic Lua script on Redis's own clock (processes
on different machines agree on the time) and sleeps outside Redis until its slot. A platform's
rate-limit error (429 / Retry-After) pauses the account for every process.

If Redis does not answer, the process falls back to a local bucket at ``fallback_share`` of the
rate (so N processes in fallback together stay under the limit when the share is 1/N or less),
logs it once, and tries Redis again after ``retry_seconds``. A pause is always applied locally too.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from adflux.platforms.ratelimit import ReservingLimiter, TokenBucket

logger = logging.getLogger(__name__)

KEY_PREFIX = "adflux:platform-limit:"
MICRO = 1_000_000

# KEYS[1] = hash {tat = the next free slot, pause = held until}, in µs of Redis's clock.
# ARGV = interval µs, tolerance µs (burst - 1 intervals), ttl ms. Returns the µs to wait.
_RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
local start = math.max(now, tat - tonumber(ARGV[2]), pause)
redis.call('HSET', KEYS[1], 'tat', string.format('%d', math.max(tat, start) + interval))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return start - now
"""

# KEYS[1] = the same hash; ARGV = µs to hold every caller, ttl ms.
_PAUSE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
redis.call('HSET', KEYS[1], 'pause', string.format('%d', math.max(pause, now + tonumber(ARGV[1]))))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""

# KEYS[1] = the same hash. Returns {µs the next slot lies ahead of now (<= 0 = idle), µs paused}.
_PEEK_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0')
return {tat - now, pause - now}
"""

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> Any:
    """One client (one connection pool) per Redis URL in this process, with short timeouts."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            _clients[url] = client
        return client


def bucket_key(platform: str, account_id: str, base_url: str) -> str:
    """The Redis key of one account's budget (the base URL hashed: a sandbox is its own account)."""
    where = hashlib.sha1(base_url.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{KEY_PREFIX}{platform}:{account_id}:{where}"


class SharedTokenBucket(ReservingLimiter):
    """The same interface as :class:`TokenBucket` (acquire, pause, headroom), across processes."""

    def __init__(
        self,
        redis_url: str,
        key: str,
        rate: float,
        burst: float | None = None,
        *,
        fallback_share: float = 0.5,
        retry_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        client: Any = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self.key = key
        self.redis_url = redis_url
        self.retry_seconds = retry_seconds
        self._sleep = sleep
        self._client = client if client is not None else redis_client(redis_url)
        self._reserve = self._client.register_script(_RESERVE_SCRIPT)
        self._pause = self._client.register_script(_PAUSE_SCRIPT)
        self._peek = self._client.register_script(_PEEK_SCRIPT)
        self.fallback = TokenBucket(self.rate * max(0.01, min(1.0, fallback_share)), burst=1.0, sleep=sleep)
        self._down_until = 0.0
        self._state_lock = threading.Lock()
        self.fallbacks = 0  # calls paced locally because Redis did not answer (for tests and logs)

    @property
    def _interval_us(self) -> int:
        return max(1, round(MICRO / self.rate))

    @property
    def _ttl_ms(self) -> int:
        # Long enough to outlive any reservation queue and pause; idle accounts expire.
        return 3_600_000

    def _redis_up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _redis_failed(self, exc: Exception) -> None:
        with self._state_lock:
            was_up = self._redis_up()
            self._down_until = time.monotonic() + self.retry_seconds
        if was_up:
            logger.warning(
                "shared platform rate limit %s unavailable (%s): pacing this process at %.3g calls/s "
                "for %.0f s",
                self.key,
                exc,
                self.fallback.rate,
                self.retry_seconds,
            )

    def reserve(self) -> float:
        """Take the account's next slot and return how long the caller must wait before using it."""
        if self._redis_up():
            tolerance = round((self.burst - 1.0) * MICRO / self.rate)
            try:
                waited = self._reserve(keys=[self.key], args=[self._interval_us, tolerance, self._ttl_ms])
                return max(0.0, int(waited) / MICRO)
            except Exception as exc:  # Redis down or slow: pace locally, never stop publishing
                self._redis_failed(exc)
        with self._state_lock:
            self.fallbacks += 1
        return self.fallback.reserve()

    def pause(self, seconds: float) -> None:
        """Hold every caller of this account, in every process, for ``seconds``."""
        self.fallback.pause(seconds)
        if self._redis_up():
            try:
                self._pause(keys=[self.key], args=[round(seconds * MICRO), self._ttl_ms])
            except Exception as exc:
                self._redis_failed(exc)
        logger.info("shared rate limiter %s paused for %.2fs", self.key, seconds)

    def headroom(self) -> float:
        """Fraction of the burst currently available (1.0 = idle, 0.0 = saturated or paused)."""
        if self._redis_up():
            try:
                ahead_us, paused_us = self._peek(keys=[self.key])
            except Exception as exc:
                self._redis_failed(exc)
            else:
                if int(paused_us) > 0:
                    return 0.0
                used = max(0.0, int(ahead_us) / MICRO * self.rate)  # slots already promised
                return max(0.0, self.burst - used) / self.burst
        return self.fallback.headroom()
