"""One metrics sync at a time: a redelivered or second sync while one runs is refused, not doubled."""

from __future__ import annotations

import threading

import pytest

from adflux.services import metrics_sync
from adflux.services.errors import Conflict
from adflux.services.locks import try_lock


def test_a_sync_while_another_runs_is_refused(app, app_ctx):
    held, release = threading.Event(), threading.Event()

    def running_sync() -> None:
        with app.app_context(), try_lock("sync", metrics_sync.SYNC_LOCK_KEY) as got:
            assert got
            held.set()
            release.wait(10)

    other = threading.Thread(target=running_sync)
    other.start()
    try:
        assert held.wait(5)
        with pytest.raises(Conflict, match="Ya hay una sincronización de métricas en curso"):
            metrics_sync.sync_metrics()
    finally:
        release.set()
        other.join()
    assert metrics_sync.sync_metrics().rows == 0  # free again
