"""bench_feeds' scratch database (`adflux_bench_feeds`, or ADFLUX_BENCH_DATABASE), the app over it,
and the load average printed beside each figure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import scratch_database

# ADFLUX_BENCH_DATABASE: another scratch database name, so two people can run it at once.
BENCH_DATABASE = os.environ.get("ADFLUX_BENCH_DATABASE", "adflux_bench_feeds")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"


def recreate_database() -> None:
    scratch_database.recreate(BENCH_DATABASE)


def drop_database() -> None:
    scratch_database.drop(BENCH_DATABASE)


def make_app(instance: Path, **overrides: Any) -> Any:
    from adflux.app import create_app
    from adflux.settings import Settings

    settings = Settings.from_env(
        {}, env="development", database_url=DATABASE_URL, instance_path=str(instance), metrics_enabled=False,
        **overrides,
    )  # fmt: skip
    return create_app(settings)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
