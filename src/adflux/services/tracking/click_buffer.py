"""Where clicks wait for the database: a Redis list shared by every process, or (no Redis) a
JSON-lines file under the instance folder. Clicks are written from here in batches by `flush`."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from adflux.services import rate_limits
from adflux.settings import Settings

logger = logging.getLogger(__name__)

REDIS_KEY = "adflux:tracking:clicks"


class ClickBuffer(Protocol):
    def push(self, rows: list[dict[str, Any]]) -> None: ...

    def take(self, limit: int) -> list[dict[str, Any]]: ...

    def give_back(self, rows: list[dict[str, Any]]) -> None: ...

    def size(self) -> int: ...


class RedisClickBuffer:
    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)

    def push(self, rows: list[dict[str, Any]]) -> None:
        self.client.rpush(REDIS_KEY, *(json.dumps(row) for row in rows))

    def take(self, limit: int) -> list[dict[str, Any]]:
        raw: Any = self.client.lpop(REDIS_KEY, limit) or []
        return [json.loads(item) for item in raw]

    def give_back(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.client.lpush(REDIS_KEY, *(json.dumps(row) for row in reversed(rows)))

    def size(self) -> int:
        size: Any = self.client.llen(REDIS_KEY)
        return int(size)


class FileClickBuffer:
    """One file per process, appended under a lock; `take` reads and empties it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()

    def _path(self) -> Path:
        return self.folder / f"clicks-{os.getpid()}.jsonl"

    def push(self, rows: list[dict[str, Any]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.lock, self._path().open("a", encoding="utf-8") as out:
            out.write("".join(json.dumps(row) + "\n" for row in rows))
            out.flush()
            os.fsync(out.fileno())

    def take(self, limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with self.lock:
            for path in sorted(self.folder.glob("clicks-*.jsonl")) if self.folder.exists() else []:
                taken = path.with_suffix(".taking")
                path.rename(taken)
                rows.extend(json.loads(line) for line in taken.read_text("utf-8").splitlines() if line)
                taken.unlink()
        return rows

    def give_back(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.push(rows)

    def size(self) -> int:
        if not self.folder.exists():
            return 0
        return sum(1 for path in self.folder.glob("clicks-*.jsonl") for _ in path.open(encoding="utf-8"))


_buffers: dict[str, ClickBuffer] = {}
_lock = threading.Lock()


def is_shared(settings: Settings) -> bool:
    """Whether clicks can wait in a buffer every process shares (Redis), so writing can be deferred."""
    return bool(settings.tracking_buffer_redis_url or rate_limits.redis_url(settings))


def buffer_for(settings: Settings) -> ClickBuffer:
    """The buffer these settings name: Redis when one is configured, else a file."""
    url = settings.tracking_buffer_redis_url or rate_limits.redis_url(settings)
    key = url or f"file://{settings.instance_path}"
    with _lock:
        found = _buffers.get(key)
        if found is None:
            found = RedisClickBuffer(url) if url else FileClickBuffer(Path(settings.instance_path) / "clicks")
            _buffers[key] = found
        return found
