"""The rate limiter each adapter uses for its account: shared through Redis, or this process's own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from adflux.platforms.ratelimit import Limiter, TokenBucket
from adflux.platforms.shared_ratelimit import SharedTokenBucket, bucket_key

_limiters: dict[tuple[str, ...], Limiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(
    platform: str,
    account_id: str,
    base_url: str,
    rate: float,
    burst: float | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    shared_url: str | None = None,
    fallback_share: float = 0.5,
) -> Limiter:
    """The bucket for one account, created on first use and kept for the process.

    With ``shared_url`` (a Redis URL) every process draws on one budget of ``rate`` calls per
    second for the account; without it, ``rate`` is this process's own.
    """
    key = (platform, account_id, base_url, shared_url or "")
    with _limiters_lock:
        bucket = _limiters.get(key)
        if bucket is not None and bucket.rate == rate and (burst is None or _burst(bucket) == burst):
            return bucket
        if shared_url:
            bucket = SharedTokenBucket(
                shared_url,
                bucket_key(platform, account_id, base_url),
                rate,
                burst,
                fallback_share=fallback_share,
                sleep=sleep,
            )
        else:
            bucket = TokenBucket(rate, burst, sleep=sleep)
        _limiters[key] = bucket
        return bucket


def _burst(bucket: Limiter) -> float | None:
    return getattr(bucket, "burst", None)


def forget_limiters() -> None:
    """Drop every bucket of this process (tests)."""
    with _limiters_lock:
        _limiters.clear()
