"""A thread-safe token bucket per ad account in one process, shared by every adapter using that account
(platforms/limiters.py picks it or the bucket shared by every process through Redis)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)


class Limiter(Protocol):
    """What the transport needs of a limiter: this process's bucket or the shared one."""

    rate: float

    def acquire(self) -> float: ...
    def pause(self, seconds: float) -> None: ...
    def headroom(self) -> float: ...


class ReservingLimiter:
    """A limiter that reserves its caller's slot and then sleeps outside any lock until it comes.

    Subclasses say how a slot is reserved (`reserve`: the seconds to wait); waiting is the same for all.
    """

    _sleep: Callable[[float], None]

    def reserve(self) -> float:
        raise NotImplementedError

    def acquire(self) -> float:
        """Block until a call is allowed; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class TokenBucket(ReservingLimiter):
    """Allow ``rate`` calls per second on average with bursts up to ``burst``.

    Callers reserve a token under the lock and sleep outside it, so concurrent threads queue up
    fairly instead of all waking at once and overshooting the limit.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token and return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, self._paused_until - now)

    def pause(self, seconds: float) -> None:
        """Hold every caller of this account for ``seconds`` (the platform said to back off)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
        logger.info("rate limiter paused for %.2fs", seconds)

    def headroom(self) -> float:
        """Fraction of the burst currently available (1.0 = idle, 0.0 = saturated)."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._paused_until:
                return 0.0
            return max(0.0, self._tokens) / self.burst
