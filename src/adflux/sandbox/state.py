"""Everything the sandbox remembers, in memory, behind one re-entrant lock."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adflux.constants import PLATFORMS
from adflux.sandbox.ids import IdFactory


@dataclass
class Faults:
    """Fault-injection knobs for one platform."""

    latency_ms: float = 0.0
    error_rate: float = 0.0  # probability of a transient 5xx-style error per call
    error_next: int = 0  # the next N calls fail with a transient error
    throttle_next: int = 0  # the next N calls are throttled
    throttle_retry_after: float = 1.0  # seconds the forced throttle asks for
    drop_after_commit: int = 0  # the next N matching writes commit, then the connection drops
    drop_match: str = ""  # only writes whose path contains this substring


@dataclass
class Unit:
    """One deliverable ad group (ad set, ad group, line item, ad squad) for the simulator."""

    platform: str
    account: str
    campaign_id: str
    group_id: str
    daily_budget: int  # pesos
    objective: str = "traffic"
    campaign_cap: int | None = None  # pesos over the campaign's lifetime
    interests: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    custom_audience: bool = False
    texts: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    history: list[tuple[date, bool]] = field(default_factory=list)
    approved: bool | None = True  # Meta review; False never delivers

    def active_on(self, day: date) -> bool:
        state = False
        for when, active in self.history:
            if when <= day:
                state = active
            else:
                break
        if self.start and day < self.start:
            return False
        if self.end and day > self.end:
            return False
        return state and self.approved is not False


class RateWindow:
    """A server-side token bucket, in real time: how the sandbox decides to throttle."""

    def __init__(self, per_second: float, burst: float) -> None:
        self.per_second = per_second
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self) -> float:
        """Consume a token; return 0, or the seconds until one is available (not consumed)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second

    def usage(self) -> float:
        """0..1 of the burst in use."""
        return 1 - max(0.0, self.tokens) / self.burst


class SandboxState:
    """Objects, clock, tokens, knobs and counters for all five emulated platforms."""

    def __init__(self, *, start_date: date | None = None, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.ids = IdFactory(seed)
        self.rng = random.Random(seed)
        self.today = start_date or datetime.now(UTC).date()
        self.objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
            platform: defaultdict(dict) for platform in PLATFORMS
        }
        self.units: dict[tuple[str, str], Unit] = {}
        self.faults: dict[str, Faults] = {platform: Faults() for platform in PLATFORMS}
        self.rate_limits: dict[str, tuple[float, float] | None] = dict.fromkeys(PLATFORMS)
        self.windows: dict[tuple[str, str], RateWindow] = {}
        self.expired_tokens: dict[str, set[str]] = {platform: set() for platform in PLATFORMS}
        self.expire_all: dict[str, bool] = dict.fromkeys(PLATFORMS, False)
        self.requests: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}  # downloadable report files by name
        self.jobs: dict[str, dict[str, Any]] = {}  # async report jobs by id
        self.report_polls = 1  # polls before an async report completes
        self.on_advance: list[Any] = []  # callbacks run when the clock moves (e.g. Meta review)

    # -- clock -----------------------------------------------------------------------------

    def now(self) -> datetime:
        """Simulated now: the simulated date with the real time of day (UTC)."""
        real = datetime.now(UTC)
        return datetime.combine(self.today, real.time(), UTC)

    def advance(self, days: int) -> date:
        """Move the simulated clock forward; reviews pending on Meta complete on the way."""
        with self.lock:
            if days < 0:
                raise ValueError("the clock only moves forward")
            self.today += timedelta(days=days)
            for hook in self.on_advance:
                hook()
            return self.today

    # -- objects ---------------------------------------------------------------------------

    def add(self, platform: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.objects[platform][kind][str(obj["id"])] = obj
            return obj

    def get(self, platform: str, kind: str, object_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects[platform][kind].get(str(object_id))

    def find_any(self, platform: str, object_id: str) -> tuple[str, dict[str, Any]] | None:
        with self.lock:
            for kind, items in self.objects[platform].items():
                if str(object_id) in items:
                    return kind, items[str(object_id)]
            return None

    def all(self, platform: str, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.objects[platform][kind].values())

    def counts(self, platform: str) -> dict[str, int]:
        with self.lock:
            return {kind: len(items) for kind, items in self.objects[platform].items() if items}

    # -- simulator units ---------------------------------------------------------------------

    def unit(self, platform: str, group_id: str) -> Unit | None:
        return self.units.get((platform, str(group_id)))

    def put_unit(self, unit: Unit) -> Unit:
        with self.lock:
            self.units[(unit.platform, unit.group_id)] = unit
            return unit

    def set_active(self, platform: str, group_id: str, active: bool) -> None:
        """Record the ad group's effective delivery state from today on."""
        with self.lock:
            unit = self.units.get((platform, str(group_id)))
            if unit is None:
                return
            if unit.history and unit.history[-1][0] == self.today:
                unit.history[-1] = (self.today, active)
            elif not unit.history or unit.history[-1][1] != active:
                unit.history.append((self.today, active))

    # -- tokens ------------------------------------------------------------------------------

    def token_state(self, platform: str, token: str | None) -> str:
        """ "missing", "expired" or "valid"."""
        if not token:
            return "missing"
        with self.lock:
            if self.expire_all[platform] or token in self.expired_tokens[platform]:
                return "expired"
        return "valid"

    # -- throttling ----------------------------------------------------------------------------

    def throttle_wait(self, platform: str, key: str) -> float:
        """0 when the call may proceed, else the seconds until the platform would accept it."""
        with self.lock:
            limit = self.rate_limits.get(platform)
            if not limit:
                return 0.0
            window = self.windows.get((platform, key))
            if window is None or (window.per_second, window.burst) != limit:
                window = self.windows[(platform, key)] = RateWindow(*limit)
            return window.take()

    def usage(self, platform: str, key: str) -> float:
        with self.lock:
            window = self.windows.get((platform, key))
            return window.usage() if window else 0.0

    def reset(self) -> None:
        """Forget every object, knob and counter (the clock stays where it is)."""
        with self.lock:
            for platform in PLATFORMS:
                self.objects[platform].clear()
                self.faults[platform] = Faults()
                self.rate_limits[platform] = None
                self.expired_tokens[platform].clear()
                self.expire_all[platform] = False
            self.units.clear()
            self.windows.clear()
            self.requests.clear()
            self.throttled.clear()
            self.dropped.clear()
            self.files.clear()
            self.jobs.clear()
