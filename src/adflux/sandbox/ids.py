"""Object ids in each platform's own format, deterministic per sandbox seed.

In memory the counter behind them lives here; with a store it lives in the store (``allocate``),
so that no two processes, and no restart, hand out the same id.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import secrets
import threading
import uuid
from collections.abc import Callable

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_base36(number: int) -> str:
    """Lowercase base-36, as X Ads ids are."""
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return "".join(reversed(digits))


class IdFactory:
    """Thread-safe id generators: Meta numeric, Google numeric, X base-36, TikTok 19-digit, Snap UUID."""

    def __init__(self, seed: int = 0, *, allocate: Callable[[], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._allocate = allocate
        # Tokens (request ids, upload file names) need no order, but with a store they must not
        # repeat across processes, which one shared seed would make them do.
        self._rng = random.Random(seed if allocate is None else secrets.randbits(64))
        self._counter = itertools.count(1)

    def _next(self) -> int:
        if self._allocate is not None:
            return self._allocate()
        with self._lock:
            return next(self._counter)

    def meta(self) -> str:
        return str(120_210_000_000_000_000 + self._next() * 7919)

    def google(self) -> str:
        return str(20_000_000_000 + self._next() * 37)

    def x(self) -> str:
        return to_base36(36**4 * 7 + self._next() * 41)

    def tweet(self) -> str:
        return str(1_780_000_000_000_000_000 + self._next() * 101)

    def tiktok(self) -> str:
        return str(1_800_000_000_000_000_000 + self._next() * 1_009)

    def snapchat(self) -> str:
        if self._allocate is not None:
            # From the shared counter, so unique across processes; still a version-4 UUID.
            digest = hashlib.sha256(f"snapchat:{self._seed}:{self._allocate()}".encode()).digest()
            return str(uuid.UUID(bytes=digest[:16], version=4))
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self) -> str:
        with self._lock:
            return f"{self._rng.getrandbits(64):016x}"
