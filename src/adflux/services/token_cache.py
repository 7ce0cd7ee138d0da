"""The in-process cache of valid API tokens' principals (see services/auth.py for its bounds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adflux.models.base import utcnow

# A valid token's principal is kept in this process for TOKEN_CACHE_SECONDS at most.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_MAX_ENTRIES = 1024


@dataclass(frozen=True)
class _CachedToken:
    principal: Any
    cached_until: float  # on the cache's clock


class TokenCache:
    """Valid tokens' principals by token hash, each for TOKEN_CACHE_SECONDS at most and never past
    the token's expiry, both measured on `clock` (seconds; tests pass one they can move)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, ttl_seconds: float = TOKEN_CACHE_SECONDS
    ) -> None:
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, _CachedToken] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> Any:
        cached = self._entries.get(token_hash)
        if cached is None:
            return None
        if self.clock() < cached.cached_until:
            return cached.principal
        self._entries.pop(token_hash, None)
        return None

    def put(self, token_hash: str, principal: Any, *, expires_at: datetime | None) -> None:
        if self.ttl_seconds <= 0:
            return
        now = self.clock()
        until = now + self.ttl_seconds
        if expires_at is not None:  # the time left to the token, as a deadline on this clock
            until = min(until, now + (expires_at - utcnow()).total_seconds())
        if len(self._entries) >= TOKEN_CACHE_MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_hash] = _CachedToken(principal, until)

    def forget_token(self, token_hash: str) -> None:
        self._entries.pop(token_hash, None)

    def forget_user(self, user_id: int) -> None:
        for token_hash, cached in list(self._entries.items()):
            if cached.principal.id == user_id:
                self._entries.pop(token_hash, None)

    def clear(self) -> None:
        self._entries.clear()
