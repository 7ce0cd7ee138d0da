"""What the sync's restatement window (metrics_lookback_days) costs a sync, and what it buys.

Publishes --campaigns campaigns on Meta, Google Ads and TikTok to an in-process sandbox running a
market scenario (default: bench/scenarios/long_lag.json, the longest attribution lag: applications
credited up to 15 days after the click), into a scratch PostgreSQL database, then copies that
database (CREATE DATABASE ... TEMPLATE) so two AdFlux installations share one market:
A syncs with the old window (--baseline, 7 days), B with the new one (--measured, 16 days).

Each simulated day the sandbox's clock moves one day and both installations run a full metrics
sync over HTTP (as after a day of hourly syncs: every platform campaign was last synced the day
before), alternating which goes first; each sync is timed (wall clock) with its rows read.
At the end, every installation re-reads all history once (the truth the platforms hold now), and
the applications each had before that, on days old enough to have matured, are compared with it.
Results are checked by counting rows in both databases.

Usage:
    PYTHONPATH=src .venv/bin/python bench/bench_lookback.py [--campaigns 20] [--days 30]
        [--baseline 7] [--measured 16] [--scenario bench/scenarios/long_lag.json] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text, update

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import MetricDaily, PlatformCampaign
from adflux.sandbox.scenario import load_scenario
from adflux.sandbox.server import start_sandbox_in_thread
from adflux.sandbox.simulator import use_market
from adflux.services import campaigns as campaigns_service
from adflux.services import jobs as jobs_service
from adflux.services import metrics_sync
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASE = "adflux_bench_lookback"
PLATFORMS = ["meta", "google", "tiktok"]
REPO = Path(__file__).resolve().parents[1]


def admin(sql: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def settings_for(name: str, base_url: str, instance: str) -> Settings:
    return Settings.from_env(
        {}, env="testing", database_url=url(name), platform_base_url=base_url, instance_path=instance,
        metrics_enabled=False,
    )  # fmt: skip


def publish(app: Any, campaigns: int) -> None:
    with app.app_context():
        db.create_all()
        job = jobs_service.create_job(
            data={
                "external_ref": f"BENCH-LOOKBACK-{time.time_ns()}", "title": "Auxiliar de bodega",
                "description": "Inventarios y despachos.", "company": "Acme Colombia S.A.S.",
                "city": "Bogotá", "department": "Bogotá D.C.", "category": "logistica",
                "modality": "presencial", "salary_min": 1_500_000, "salary_max": 2_000_000,
                "education_required": "bachiller", "experience_years_min": 0,
                "apply_url": "https://empleos.example.co/ofertas/2",
            }
        )  # fmt: skip
        for i in range(campaigns):
            campaign = campaigns_service.create_campaign(
                job_id=job.id, platforms=PLATFORMS, budget_total=9_000_000, name=f"Lookback {i}"
            )
            campaigns_service.publish_campaign(campaign_id=campaign.id)
        db.session.remove()
        db.engine.dispose()


def sync_day(app: Any, day: date, lookback: int) -> tuple[float, int]:
    """One full sync of `day`, as if every platform campaign was last synced the day before."""
    with app.app_context():
        synced = datetime.combine(day - timedelta(days=1), clock(12), UTC)
        db.session.execute(update(PlatformCampaign).values(last_synced_at=synced))
        db.session.commit()
        started = time.perf_counter()
        result = metrics_sync.sync_metrics(until=day, lookback_days=lookback)
        seconds = time.perf_counter() - started
        db.session.remove()
    return seconds, result.rows


def applications(app: Any, until: date) -> tuple[int, int]:
    """Applications on days up to `until`, and all metric rows."""
    with app.app_context():
        apps = db.session.scalar(
            select(func.coalesce(func.sum(MetricDaily.applications), 0)).where(MetricDaily.date <= until)
        )
        rows = db.session.scalar(select(func.count()).select_from(MetricDaily))
        db.session.remove()
    return int(apps or 0), int(rows or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--days", type=int, default=30, help="simulated days, each synced by both")
    parser.add_argument("--baseline", type=int, default=7, help="lookback days of installation A")
    parser.add_argument("--measured", type=int, default=16, help="lookback days of installation B")
    parser.add_argument("--scenario", default=str(REPO / "bench/scenarios/long_lag.json"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    use_market(scenario, seed=0)
    longest_lag = len(scenario.lag) - 1
    start = date.today()  # the flights start today; the sandbox's clock then runs ahead
    sandbox = start_sandbox_in_thread(start_date=start)
    instance = f"/tmp/{BASE}"
    os.makedirs(instance, exist_ok=True)
    names = {"A": f"{BASE}_a", "B": f"{BASE}_b"}
    load_start = os.getloadavg()
    try:
        for name in names.values():
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{names["A"]}"')
        apps = {k: create_app(settings_for(n, sandbox.base_url, instance)) for k, n in names.items()}
        publish(apps["A"], args.campaigns)
        admin(f'CREATE DATABASE "{names["B"]}" TEMPLATE "{names["A"]}"')
        lookback = {"A": args.baseline, "B": args.measured}
        timings: dict[str, list[float]] = {"A": [], "B": []}
        rows: dict[str, int] = {"A": 0, "B": 0}
        today = start
        for n in range(args.days):
            today = sandbox.advance_days(1)
            for key in ("A", "B") if n % 2 == 0 else ("B", "A"):  # alternate who goes first
                seconds, read = sync_day(apps[key], today, lookback[key])
                timings[key].append(seconds)
                rows[key] += read
        matured = today - timedelta(days=longest_lag + 1)
        before = {key: applications(apps[key], matured)[0] for key in apps}
        counts = {key: applications(apps[key], today)[1] for key in apps}
        for key in apps:  # the truth the platforms hold now: every day re-read
            sync_day(apps[key], today, args.days + 5)
        truth = {key: applications(apps[key], matured)[0] for key in apps}
    finally:
        sandbox.stop()
        for name in names.values():
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert truth["A"] == truth["B"], "both installations read the same market"
    p50 = {key: statistics.median(values) for key, values in timings.items()}
    report = {
        "scenario": scenario.name,
        "longest_lag_days": longest_lag,
        "campaigns": args.campaigns,
        "platform_campaigns": args.campaigns * len(PLATFORMS),
        "days": args.days,
        "lookback": lookback,
        "sync_seconds_p50": {k: round(v, 3) for k, v in p50.items()},
        "sync_seconds_total": {k: round(sum(v), 2) for k, v in timings.items()},
        "cost_ratio_p50": round(p50["B"] / p50["A"], 2),
        "rows_read": rows,
        "rows_read_ratio": round(rows["B"] / max(1, rows["A"]), 2),
        "metric_rows_in_database": counts,
        "matured_until": matured.isoformat(),
        "applications_on_matured_days": {**before, "truth": truth["A"]},
        "share_captured": {k: round(before[k] / max(1, truth[k]), 4) for k in before},
        "load_average": {"start": load_start, "end": os.getloadavg()},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
