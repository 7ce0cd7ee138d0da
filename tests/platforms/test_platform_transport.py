"""The shared transport and the per-account token bucket, without a network."""

from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from adflux.platforms.errors import AmbiguousOutcomeError, RetryableError, ThrottledError
from adflux.platforms.ratelimit import TokenBucket
from adflux.platforms.transport import RetryPolicy, Transport, TransportConfig


def _classify(response: httpx.Response, now: float):
    if response.status_code == 429:
        hint = response.headers.get("retry-after")
        return ThrottledError("slow down", retry_after=float(hint) if hint else None, platform="test")
    if response.status_code >= 500:
        return RetryableError("boom", platform="test")
    return None


def _transport(handler, sleeps: list[float], **policy: float) -> Transport:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    config = TransportConfig(
        sleep=sleeps.append,
        retry=RetryPolicy(
            **{
                "max_attempts": 4,
                "base_delay": 1.0,
                "max_delay": 8.0,
                "max_wait": 60.0,
                "jitter": 0.0,
                **policy,
            }
        ),
        rng=random.Random(0),
        client=client,
    )
    return Transport(platform="test", base_url="http://127.0.0.1:9", classify=_classify, config=config)


def test_backoff_doubles_and_gives_up_after_max_attempts():
    sleeps: list[float] = []
    transport = _transport(lambda request: httpx.Response(503), sleeps)

    with pytest.raises(RetryableError):
        transport.request("GET", "/x", operation="op")

    assert sleeps == [1.0, 2.0, 4.0]


def test_jitter_stays_within_the_configured_fraction():
    sleeps: list[float] = []
    transport = _transport(
        lambda request: httpx.Response(503), sleeps, jitter=0.2, max_attempts=6, max_delay=100
    )

    with pytest.raises(RetryableError):
        transport.request("GET", "/x", operation="op")

    for attempt, wait in enumerate(sleeps):
        assert 0.8 * 2**attempt <= wait <= 1.2 * 2**attempt


def test_platform_hint_is_honoured_exactly_then_the_call_succeeds():
    sleeps: list[float] = []
    answers = iter([httpx.Response(429, headers={"retry-after": "7.5"}), httpx.Response(200, json={})])
    transport = _transport(lambda request: next(answers), sleeps)

    assert transport.request("GET", "/x", operation="op").status_code == 200
    assert sleeps == [7.5]


def test_hint_longer_than_max_wait_is_raised_for_the_caller_to_reschedule():
    sleeps: list[float] = []
    transport = _transport(lambda request: httpx.Response(429, headers={"retry-after": "900"}), sleeps)

    with pytest.raises(ThrottledError) as caught:
        transport.request("GET", "/x", operation="op")

    assert sleeps == [] and caught.value.retry_after == 900


def test_lost_response_to_a_create_is_ambiguous_and_not_retried():
    sleeps: list[float] = []
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    transport = _transport(handler, sleeps)

    with pytest.raises(AmbiguousOutcomeError):
        transport.request("POST", "/create", operation="create")
    assert calls == ["POST"]


def test_lost_response_to_a_read_is_retried():
    sleeps: list[float] = []
    answers = iter([httpx.ReadTimeout("slow"), httpx.Response(200, json={})])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = _transport(handler, sleeps)

    assert transport.request("GET", "/x", operation="op").status_code == 200
    assert sleeps == [1.0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_token_bucket_spaces_calls_at_the_configured_rate_after_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock, sleep=clock.sleep)

    for _ in range(25):
        bucket.acquire()

    # 5 free from the burst, then 20 more at 10/s.
    assert clock.now == pytest.approx(2.0)


def test_token_bucket_pause_holds_every_caller():
    clock = FakeClock()
    bucket = TokenBucket(100, burst=100, clock=clock, sleep=clock.sleep)
    bucket.pause(30)

    assert bucket.headroom() == 0.0
    assert bucket.acquire() == pytest.approx(30)


def test_token_bucket_is_thread_safe_and_never_exceeds_the_rate():
    bucket = TokenBucket(200, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stamps) == 100
    elapsed = max(stamps) - min(stamps)
    assert elapsed >= 99 / 200 * 0.9
