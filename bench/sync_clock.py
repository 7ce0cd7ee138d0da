"""A metrics sync that lives some days ahead: the full-sync bench's "a day passes".

`shift(days)` moves the sync's clock (its "today" and the `last_synced_at` it stamps) forward in
this process; run as a script it starts a Celery worker so shifted (`ADFLUX_BENCH_DAYS_AHEAD`),
its arguments passed to `celery`. The sync's code path is unchanged: only its clock moves, with
the sandbox's (`POST /__sandbox/clock/advance`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta


def shift(days: int) -> None:
    from adflux.models.base import utcnow
    from adflux.services import local_dates, metrics_sync

    real_today: Callable[[], date] = local_dates.today
    real_now: Callable[[], datetime] = utcnow
    metrics_sync.today = lambda: real_today() + timedelta(days=days)  # type: ignore[attr-defined]
    metrics_sync.utcnow = lambda: real_now() + timedelta(days=days)  # type: ignore[attr-defined]


if __name__ == "__main__":
    shift(int(os.environ.get("ADFLUX_BENCH_DAYS_AHEAD", "0")))
    from celery.bin.celery import main

    sys.argv = ["celery", *sys.argv[1:]]
    main()
