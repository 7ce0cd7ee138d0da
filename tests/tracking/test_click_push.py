"""Clicks pushed to the shared Redis buffer by group commit: every thread's click is in Redis when
its push returns, threads arriving together share one RPUSH, and a failed push raises in each."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from adflux.services.tracking import click_buffer, click_push, clicks
from adflux.services.tracking.links import CLICK_ID_PARAM, LinkTarget, utm_values, with_params
from conftest import require_service

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


class _CountingBuffer(click_buffer.RedisClickBuffer):
    """The real Redis buffer, counting its pushes and holding each on the wire for a moment."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.pushes: list[int] = []

    def push(self, rows: list[dict[str, Any]]) -> None:
        time.sleep(0.01)
        super().push(rows)
        self.pushes.append(len(rows))


def _race(pusher: click_push.GroupPusher, count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def one(n: int) -> None:
        start.wait()
        try:
            pusher.push({"click_id": f"{n:032x}"})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return errors


@pytest.mark.redis
def test_threads_clicking_together_share_pushes_and_every_click_is_in_redis() -> None:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    buffer = _CountingBuffer(TEST_REDIS_URL)
    buffer.client.delete(click_buffer.REDIS_KEY)
    assert _race(click_push.GroupPusher(buffer), 40) == []
    stored = buffer.take(1000)
    assert sorted(row["click_id"] for row in stored) == [f"{n:032x}" for n in range(40)]
    assert sum(buffer.pushes) == 40
    assert len(buffer.pushes) < 40  # grouped: fewer round trips than clicks
    assert max(buffer.pushes) > 1


def test_a_failed_push_raises_in_every_thread_of_its_group() -> None:
    pusher = click_push.GroupPusher(click_buffer.RedisClickBuffer("redis://127.0.0.1:9/0"))
    errors = _race(pusher, 12)
    assert len(errors) == 12  # each records its click the slow way; none believes it is stored
    assert not pusher.busy and pusher.current.rows == []


def test_the_redirect_url_is_the_destination_with_utm_values_and_the_click_id() -> None:
    target = LinkTarget(
        code="abc12345",
        campaign_id=41,
        platform="google",
        ad_group_id=7,
        segment_id=None,
        creative_id=None,
        destination_url="https://empleos.example.co/ofertas/1?ref=feed&utm_source=old",
    )
    clicks.forget_link_cache()
    for click_id in (clicks.new_click_id(), clicks.new_click_id()):
        expected = with_params(target.destination_url, {**utm_values(target), CLICK_ID_PARAM: click_id})
        assert clicks.redirect_url(target, click_id) == expected
    clicks.forget_link_cache()
