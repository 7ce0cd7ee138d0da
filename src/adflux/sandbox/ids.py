"""Object ids in each platform's own format, deterministic per sandbox seed."""

from __future__ import annotations

import itertools
import random
import threading
import uuid

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

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._counter = itertools.count(1)

    def _next(self) -> int:
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
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self) -> str:
        with self._lock:
            return f"{self._rng.getrandbits(64):016x}"
