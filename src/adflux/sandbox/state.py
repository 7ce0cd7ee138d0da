"""Everything the sandbox remembers, behind one re-entrant lock; with a store path, shared by processes.

Without a store the state lives in memory only, as it always did (tests, throwaway sandboxes).
With one (:mod:`adflux.sandbox.store`), every process on the same file sees the same platform
objects, simulator units, clock, report jobs and files, and draws ids from one counter: each
request runs in :meth:`SandboxState.transaction`, which reloads what other processes changed and
writes back what the request changed.

What stays per process even with a store, because they are test controls rather than platform
state: fault knobs (:class:`Faults`), rate limits and their windows, expired tokens, the request,
throttle and drop counters, the polls a report needs, and the random source of the fault knobs
and of request ids/tokens.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adflux.constants import PLATFORMS
from adflux.sandbox import tokens
from adflux.sandbox.ids import IdFactory
from adflux.sandbox.mirror import StoreMirror
from adflux.sandbox.store import SandboxStore
from adflux.sandbox.units import Unit

__all__ = ["Faults", "RateWindow", "SandboxState", "Unit"]


@dataclass
class Faults:
    """Fault-injection knobs for one platform."""

    latency_ms: float = 0.0
    error_rate: float = 0.0  # probability of a transient 5xx-style error per call
    error_next: int = 0  # the next N calls fail with a transient error
    throttle_next: int = 0  # the next N calls are throttled
    throttle_retry_after: float = 1.0  # seconds the forced throttle asks for
    drop_after_commit: int = 0  # the next N matching writes commit, then the connection drops
    drop_rate: float = 0.0  # probability that a write commits, then the connection drops
    drop_match: str = ""  # only writes whose path contains this substring


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


class _StoreTransaction:
    """Re-entrant: the outermost one holds the state's lock across the store transaction."""

    def __init__(self, state: SandboxState, mirror: StoreMirror) -> None:
        self.state = state
        self.mirror = mirror
        self.depth = 0  # only changed with the state's lock held

    def __enter__(self) -> None:
        self.state.lock.acquire()
        self.depth += 1
        if self.depth > 1:
            return
        try:
            self.state._today = self.mirror.begin()
        except BaseException:
            self.depth -= 1
            self.state.lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self.depth == 1:
                # Also after an error: the emulators changed memory as far as they got, and the
                # store must hold what memory holds (a memory-only sandbox keeps it too).
                self.mirror.finish(self.state.today)
        finally:
            self.depth -= 1
            self.state.lock.release()


class SandboxState:
    """Objects, clock, tokens, knobs and counters for all five emulated platforms."""

    def __init__(
        self, *, start_date: date | None = None, seed: int = 0, store_path: str | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.rng = random.Random(seed)
        self._today = start_date or datetime.now(UTC).date()
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
        self.injected_errors: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}  # downloadable report files by name
        self.jobs: dict[str, dict[str, Any]] = {}  # async report jobs by id
        self.report_polls = 1  # polls before an async report completes
        self.on_advance: list[Any] = []  # callbacks run when the clock moves (e.g. Meta review)
        self.store_path = store_path
        self._mirror: StoreMirror | None = None
        self._transaction: AbstractContextManager[Any] = self.lock  # memory only: the lock is enough
        if store_path is None:
            self.ids = IdFactory(seed)
        else:
            store = SandboxStore(store_path, today=self.today)  # the clock seeds a new store only
            self._mirror = StoreMirror(store, self.objects, self.units, self.jobs, self.files)
            self._transaction = _StoreTransaction(self, self._mirror)
            self.ids = IdFactory(seed, allocate=self._allocate_id)
            with self._transaction:  # load the store (and its clock) now, not on the first request
                pass

    def transaction(self) -> AbstractContextManager[Any]:
        """Hold the state for one request: with a store, see other processes' changes and keep ours.

        Re-entrant; every accessor below takes it too, so a lone call outside a request is one
        transaction. Objects handed out are only written back if changed inside the transaction.
        """
        return self._transaction

    def close(self) -> None:
        """Release the store file; a closed stored state serves no more requests."""
        if self._mirror is not None:
            with self.lock:
                self._mirror.store.close()

    def _allocate_id(self) -> int:
        mirror = self._mirror
        assert mirror is not None
        with self._transaction:
            return mirror.allocate_id()

    # -- clock -----------------------------------------------------------------------------

    @property
    def today(self) -> date:
        """The simulated date (with a store: as of this request's start, or as this request moved it)."""
        return self._today

    @today.setter
    def today(self, value: date) -> None:
        # A transaction of its own when set from outside a request (test fixtures), so it is kept.
        with self._transaction:
            self._today = value

    def now(self) -> datetime:
        """Simulated now: the simulated date with the real time of day (UTC)."""
        real = datetime.now(UTC)
        return datetime.combine(self.today, real.time(), UTC)

    def advance(self, days: int) -> date:
        """Move the simulated clock forward; reviews pending on Meta complete on the way."""
        with self._transaction:
            if days < 0:
                raise ValueError("the clock only moves forward")
            self.today += timedelta(days=days)
            for hook in self.on_advance:
                hook()
            return self.today

    # -- objects ---------------------------------------------------------------------------

    def add(self, platform: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self._transaction:
            object_id = str(obj["id"])
            self.objects[platform][kind][object_id] = obj
            if self._mirror is not None:
                self._mirror.touch_object(platform, kind, object_id)
            return obj

    def get(self, platform: str, kind: str, object_id: str) -> dict[str, Any] | None:
        with self._transaction:
            obj = self.objects[platform][kind].get(str(object_id))
            if obj is not None and self._mirror is not None:
                self._mirror.touch_object(platform, kind, str(object_id))
            return obj

    def remove(self, platform: str, kind: str, object_id: str) -> dict[str, Any] | None:
        """Delete an object from memory, as a platform deletes it (tests: media deleted at the
        platform). A persistent store keeps its copy until the next reset."""
        with self._transaction:
            return self.objects[platform][kind].pop(str(object_id), None)

    def find_any(self, platform: str, object_id: str) -> tuple[str, dict[str, Any]] | None:
        with self._transaction:
            for kind, items in self.objects[platform].items():
                if str(object_id) in items:
                    if self._mirror is not None:
                        self._mirror.touch_object(platform, kind, str(object_id))
                    return kind, items[str(object_id)]
            return None

    def all(self, platform: str, kind: str) -> list[dict[str, Any]]:
        with self._transaction:
            if self._mirror is not None:
                self._mirror.touch_kind(platform, kind)
            return list(self.objects[platform][kind].values())

    def counts(self, platform: str) -> dict[str, int]:
        with self._transaction:
            return {kind: len(items) for kind, items in self.objects[platform].items() if items}

    # -- simulator units ---------------------------------------------------------------------

    def unit(self, platform: str, group_id: str) -> Unit | None:
        with self._transaction:
            found = self.units.get((platform, str(group_id)))
            if found is not None and self._mirror is not None:
                self._mirror.touch_unit(platform, str(group_id))
            return found

    def units_of(self, platform: str) -> list[Unit]:
        """Every simulator unit of one platform, in creation order."""
        with self._transaction:
            if self._mirror is not None:
                self._mirror.touch_units(platform)
            return [unit for unit in self.units.values() if unit.platform == platform]

    def put_unit(self, unit: Unit) -> Unit:
        with self._transaction:
            self.units[(unit.platform, unit.group_id)] = unit
            if self._mirror is not None:
                self._mirror.touch_unit(unit.platform, unit.group_id)
            return unit

    def set_active(self, platform: str, group_id: str, active: bool) -> None:
        """Record the ad group's effective delivery state from today on."""
        with self._transaction:
            unit = self.unit(platform, group_id)
            if unit is None:
                return
            if unit.history and unit.history[-1][0] == self.today:
                unit.history[-1] = (self.today, active)
            elif not unit.history or unit.history[-1][1] != active:
                unit.history.append((self.today, active))

    # -- report jobs and files ---------------------------------------------------------------

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._transaction:
            found = self.jobs.get(str(job_id))
            if found is not None and self._mirror is not None:
                self._mirror.touch_job(str(job_id))
            return found

    def put_job(self, job_id: str, job: dict[str, Any]) -> dict[str, Any]:
        with self._transaction:
            self.jobs[str(job_id)] = job
            if self._mirror is not None:
                self._mirror.touch_job(str(job_id))
            return job

    def all_jobs(self) -> list[tuple[str, dict[str, Any]]]:
        """(id, job) for every report job, in creation order."""
        with self._transaction:
            if self._mirror is not None:
                self._mirror.touch_jobs()
            return list(self.jobs.items())

    def file(self, name: str) -> bytes | None:
        with self._transaction:
            return self.files.get(name)

    def put_file(self, name: str, data: bytes) -> None:
        with self._transaction:
            self.files[name] = data
            if self._mirror is not None:
                self._mirror.touch_file(name)

    # -- tokens ------------------------------------------------------------------------------
    def token_state(self, platform: str, token: str | None) -> str:
        """ "missing", "invalid" (not issued by the sandbox nor registered), "expired" or "valid"."""
        state = tokens.check(platform, token)
        if state != "valid":
            return state
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
        """Forget every object, knob and counter, in the store too (the clock and ids go on)."""
        with self._transaction:
            if self._mirror is not None:
                self._mirror.clear()
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
            self.injected_errors.clear()
            self.files.clear()
            self.jobs.clear()
