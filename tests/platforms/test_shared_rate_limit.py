"""One rate budget per platform account across processes, held in a real Redis (TEST_REDIS_URL).

Separate OS processes draw on one bucket: together they never pass the rate over a window, one
process alone takes the whole rate (a per-process share would leave the idle one's part unused),
a platform's "slow down" pauses every process, and a Redis that stops answering is survived by
pacing locally at the fallback share, then used again once it is back.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from adflux.platforms.limiters import forget_limiters, limiter_for
from adflux.platforms.ratelimit import TokenBucket
from adflux.platforms.shared_ratelimit import SharedTokenBucket, bucket_key
from conftest import require_service

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.redis

# One process: says it is ready, reads the common start time, waits `delay` more, then its
# `threads` threads take slots from the shared bucket for `seconds`; prints every call's time.
CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    from adflux.platforms.shared_ratelimit import SharedTokenBucket
    url, key, rate, threads, delay, seconds = sys.argv[1:7]
    bucket = SharedTokenBucket(url, key, float(rate), 1)
    stamps, lock = [], threading.Lock()
    print("ready", flush=True)
    start = float(sys.stdin.readline()) + float(delay)  # the parent's start, once all are ready
    time.sleep(max(0.0, start - time.time()))
    def work():
        while time.time() < float(start) + float(seconds):
            bucket.acquire()
            with lock:
                stamps.append(time.time())
    pool = [threading.Thread(target=work) for _ in range(int(threads))]
    [t.start() for t in pool]
    [t.join() for t in pool]
    print(json.dumps({"stamps": stamps, "fallbacks": bucket.fallbacks}))
    """
)


@pytest.fixture
def redis_url() -> str:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    return TEST_REDIS_URL  # type: ignore[return-value]


def _key() -> str:
    return bucket_key("meta", f"act_{uuid.uuid4().hex[:8]}", "http://127.0.0.1:1")


def _processes(url: str, key: str, rate: float, plan: list[tuple[float, float]], threads: int = 4):
    """Start one process per (delay, seconds) in `plan`; return the start and each one's call times."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, key, str(rate), str(threads), str(delay), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for delay, seconds in plan
    ]
    for proc in procs:  # every interpreter up (imports done) before the clock starts
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start = time.time() + 0.2
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start}\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    return start, results


def _most_in_one_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    most, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_two_processes_share_one_budget_and_never_pass_it(redis_url):
    rate, seconds = 20.0, 3.0
    start, (first, second) = _processes(redis_url, _key(), rate, [(0, seconds), (0, seconds)])
    everything = first["stamps"] + second["stamps"]
    # Threads that asked just before the end get slots after it: count the window itself.
    stamps = [s for s in everything if start <= s < start + seconds]
    # Together: the account's rate, not twice it (each process alone would take all 20/s); on a
    # loaded machine a late wake-up may lose a slot, never add one.
    assert len(stamps) <= rate * seconds + 2
    assert len(stamps) >= 0.75 * rate * seconds
    assert _most_in_one_second(everything) <= rate + 2  # a late wake-up may bunch two slots, no more
    # Both drew on it, and neither had to fall back to pacing alone.
    assert len(first["stamps"]) > 0.25 * len(stamps) and len(second["stamps"]) > 0.25 * len(stamps)
    assert first["fallbacks"] == second["fallbacks"] == 0


def test_a_process_alone_takes_the_whole_rate_and_shares_it_when_another_starts(redis_url):
    rate = 20.0
    # The first process works 4 s; the second joins for the last 2 s.
    start, (alone, joined) = _processes(redis_url, _key(), rate, [(0, 4.0), (2.0, 2.0)])
    early = [s for s in alone["stamps"] if s < start + 2.0]
    # Alone for 2 s it takes the whole account (a fixed half share would allow 20 calls).
    assert len(early) >= 0.75 * rate * 2.0
    late = [s for s in alone["stamps"] + joined["stamps"] if start + 2.0 <= s < start + 4.0]
    assert len(late) <= rate * 2.0 + 2 and _most_in_one_second(late) <= rate + 2
    assert len(joined["stamps"]) >= 0.25 * len(late)


def test_a_platform_pause_holds_every_process(redis_url):
    key = _key()
    one = SharedTokenBucket(redis_url, key, 100, 10)
    other = SharedTokenBucket(redis_url, key, 100, 10, client=_fresh_client(redis_url))
    assert other.acquire() == 0.0
    one.pause(0.6)  # process one got a 429 with Retry-After
    assert other.headroom() == 0.0
    started = time.monotonic()
    waited = other.acquire()
    assert 0.45 <= waited <= 0.7 and time.monotonic() - started >= 0.45


def test_burst_then_the_rate_exactly(redis_url):
    bucket = SharedTokenBucket(redis_url, _key(), 20, 5)
    slots = []
    for _ in range(15):
        waited = bucket.reserve()
        slots.append((waited, time.monotonic() + waited))  # when this call may go
    assert max(waited for waited, _ in slots[:5]) < 0.05  # the burst is free
    # Then one slot every 1/20 s: the 15th call goes 10 intervals after the burst's first call
    # (measured as slot times, so a slow round trip to Redis on a busy machine does not count).
    assert slots[14][1] - slots[0][1] == pytest.approx(10 / 20, abs=0.05)
    assert bucket.headroom() == 0.0


def test_redis_unreachable_falls_back_to_the_local_share(redis_url, caplog):
    proxy = _Proxy(redis_url)
    bucket = SharedTokenBucket(
        proxy.url, _key(), 50, 1, fallback_share=0.5, retry_seconds=0.5, client=_fresh_client(proxy.url)
    )
    assert bucket.acquire() == 0.0 and bucket.fallbacks == 0
    proxy.stop()  # Redis stops answering
    started = time.monotonic()
    for _ in range(11):
        bucket.acquire()
    elapsed = time.monotonic() - started
    # Paced locally at 25/s (half of 50): 10 intervals of 40 ms after the first, never stopped.
    assert bucket.fallbacks >= 10 and 0.35 <= elapsed <= 2.5
    assert "unavailable" in caplog.text
    proxy.start()  # back: after retry_seconds the shared bucket is used again
    time.sleep(0.6)
    before = bucket.fallbacks
    bucket.acquire()
    assert bucket.fallbacks == before
    assert _fresh_client(redis_url).exists(bucket.key) == 1
    proxy.stop()


def test_limiter_for_picks_the_shared_bucket_with_a_redis_url(redis_url):
    forget_limiters()
    shared = limiter_for("google", "123", "http://127.0.0.1:9", 10, 1, shared_url=redis_url)
    local = limiter_for("google", "123", "http://127.0.0.1:9", 10, 1)
    assert isinstance(shared, SharedTokenBucket) and isinstance(local, TokenBucket)
    assert limiter_for("google", "123", "http://127.0.0.1:9", 10, 1, shared_url=redis_url) is shared
    forget_limiters()


def test_the_account_scope_setting_decides_where_the_budget_lives(redis_url, settings):
    from adflux.services.platform_access import shared_limit

    shared = settings.replace(rate_limit_redis_url=redis_url, platform_rate_limit_scope="account")
    assert shared_limit(shared)["rate_limit_shared_url"] == redis_url
    own = shared.replace(platform_rate_limit_scope="process")
    assert shared_limit(own)["rate_limit_shared_url"] is None
    with pytest.raises(Exception, match="ADFLUX_PLATFORM_RATE_LIMIT_SCOPE"):
        shared.replace(platform_rate_limit_scope="machine").validate()


def _fresh_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


class _Proxy:
    """A TCP relay in front of the real Redis that can be switched off and on (a Redis outage)."""

    def __init__(self, redis_url: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.path = parts.path
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"redis://127.0.0.1:{self.port}{self.path}"
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self.start()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the accept() blocked in the relay's thread; close() alone does not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (src, dst):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
