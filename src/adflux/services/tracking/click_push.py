"""Group commit of clicks to the shared buffer: every click is in Redis before its 302 leaves, but
the threads of one worker that click at the same moment share one `RPUSH`.

The push is one `RPUSH` written on the process's own socket (`RespWire`: a few microseconds of CPU,
against ~60 through redis-py's pool, timeouts and parser); a `rediss://` or socket-file URL uses
the buffer's redis-py client instead.

The first thread to arrive pushes (the leader); threads arriving while that push is on the wire
queue their click in the next group and wait; when the push returns, one of them pushes the whole
next group. Nothing waits for a timer: alone, a click costs one round trip, as before; under load
one round trip carries every click that arrived meanwhile. A push that fails raises in every
thread of its group, and each records its click the slow way (the Flask route writes it to the
database). With sync workers (one thread) every group holds one click.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from adflux.services.tracking.click_buffer import REDIS_KEY, ClickBuffer, RedisClickBuffer

# A click still queued after this long is taken back and recorded the slow way (a group already on
# the wire is waited for: the buffer's socket timeout ends it).
WAIT_SECONDS = 5.0


class _Group:
    __slots__ = ("done", "error", "rows")

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.done = False
        self.error: BaseException | None = None


def _command(*parts: bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


class RespWire:
    """One connection to Redis speaking just enough RESP to RPUSH (used by one thread at a time)."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.database = (parts.path or "/0").strip("/") or "0"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.key = REDIS_KEY.encode()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        if self.password is not None:
            user = (self.username.encode(),) if self.username else ()
            self._call(_command(b"AUTH", *user, self.password.encode()))
        self._call(_command(b"SELECT", self.database.encode()))
        return sock

    def _call(self, command: bytes) -> bytes:
        assert self.sock is not None
        self.sock.sendall(command)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = self.sock.recv(256)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            reply += chunk
        if reply.startswith(b"-"):
            raise ConnectionError(reply[1:].decode(errors="replace").strip())
        return reply

    def push(self, rows: list[dict[str, Any]]) -> None:
        encoded = [json.dumps(row).encode() for row in rows]
        try:
            if self.sock is None:
                self._connect()
            self._call(_command(b"RPUSH", self.key, *encoded))
        except BaseException:
            self.close()  # a half-read reply must not be read as the next one's
            raise

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class GroupPusher:
    def __init__(self, buffer: ClickBuffer | RespWire) -> None:
        self.buffer = buffer
        self.ready = threading.Condition()
        self.current = _Group()
        self.busy = False

    def push(self, row: dict[str, Any]) -> None:
        """Put one click (JSON-ready) in the shared buffer; return once it is there, raise if not."""
        with self.ready:
            group = self.current
            group.rows.append(row)
            while self.busy and not group.done:
                if not self.ready.wait(WAIT_SECONDS) and group is self.current:
                    group.rows.remove(row)  # not sent: the caller records it the slow way, once
                    raise TimeoutError("click push took too long")
            if group.done:
                if group.error is not None:
                    raise group.error
                return
            self.busy = True  # lead this group; later arrivals form the next one
            self.current = _Group()
        try:
            self.buffer.push(group.rows)
        except BaseException as error:
            group.error = error
            raise
        finally:
            with self.ready:
                group.done = True
                self.busy = False
                self.ready.notify_all()


_pushers: dict[tuple[int, int], GroupPusher] = {}
_lock = threading.Lock()


def pusher_for(buffer: ClickBuffer) -> GroupPusher:
    """This process's pusher for `buffer` (a forked worker gets its own: locks and sockets do not
    cross a fork)."""
    key = (id(buffer), os.getpid())
    found = _pushers.get(key)
    if found is None:
        with _lock:
            found = _pushers.get(key)
            if found is None:
                plain = isinstance(buffer, RedisClickBuffer) and urlsplit(buffer.url).scheme == "redis"
                wire = RespWire(buffer.url) if isinstance(buffer, RedisClickBuffer) and plain else buffer
                found = _pushers[key] = GroupPusher(wire)
    return found
