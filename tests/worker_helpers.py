"""What the tests that run real Celery workers share: a reachable Redis (or a skip), an emptied
broker database, and a worker's process group stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator

import redis

from conftest import require_service


def reachable_redis(url: str) -> redis.Redis:
    """A client for ``url`` that answered a ping; otherwise the test is skipped (failed in CI)."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    return client


@contextlib.contextmanager
def flushed_broker(url: str) -> Iterator[str]:
    """The Redis database at ``url`` emptied before and after the block."""
    client = reachable_redis(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def stop_process_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group a test started (a worker and its children), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
