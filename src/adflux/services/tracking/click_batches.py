"""A process's clicks gathered for a few milliseconds, then pushed to the shared buffer in one
command (ADFLUX_TRACKING_CLICK_BATCH_MS): one Redis round trip per batch instead of per click.

A thread per process pushes every window; a stopped worker (or `stop`) ends the thread and pushes
what it holds. When Redis
refuses a push the clicks stay in memory (up to MAX_HELD) and are pushed on the next tick.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from adflux.services.tracking.click_buffer import ClickBuffer

logger = logging.getLogger(__name__)

MAX_HELD = 200_000  # clicks kept in memory while Redis refuses them (then the oldest are logged lost)


class ClickBatcher:
    def __init__(self, buffer: ClickBuffer, window_ms: int) -> None:
        self.buffer = buffer
        self.window = window_ms / 1000
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.pid = 0
        self.stopped = threading.Event()

    def add(self, row: dict[str, Any]) -> None:
        """Hold one click (already JSON-ready) until the next push."""
        if self.pid != os.getpid():
            self._start()
        with self.lock:
            self.rows.append(row)

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()  # a forked worker starts its own thread, with nothing held
            self.rows = []
            self.stopped = threading.Event()  # not the parent's: its thread did not cross the fork
        threading.Thread(target=self._run, args=(self.stopped,), name="click-batcher", daemon=True).start()
        atexit.register(self.stop)

    def _run(self, stopped: threading.Event) -> None:
        while not stopped.wait(self.window):
            self.push()

    def stop(self) -> int:
        """End the thread and push what is held (at exit, or when a test is done with the batcher);
        how many clicks were pushed. Nothing runs after it, so nothing is logged once the process's
        streams are closed."""
        self.stopped.set()
        atexit.unregister(self.stop)
        return self.push()

    def push(self) -> int:
        """Push every held click in one command; how many (0 when Redis refused them: kept)."""
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return 0
        try:
            self.buffer.push(rows)
        except Exception as error:
            with self.lock:
                self.rows = rows + self.rows
                if len(self.rows) > MAX_HELD:
                    logger.error("click batcher: %d clicks dropped, Redis refused", len(self.rows) - MAX_HELD)
                    self.rows = self.rows[-MAX_HELD:]
            logger.warning("click batcher: push failed (%s); kept for the next try", type(error).__name__)
            return 0
        return len(rows)


_batchers: dict[int, ClickBatcher] = {}
_lock = threading.Lock()


def batcher_for(buffer: ClickBuffer, window_ms: int) -> ClickBatcher:
    """The process's batcher for this buffer."""
    with _lock:
        found = _batchers.get(id(buffer))
        if found is None:
            found = _batchers[id(buffer)] = ClickBatcher(buffer, window_ms)
        return found
