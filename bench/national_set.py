"""The national data set of issue 25, built set-based and resumably in its own PostgreSQL database.

10,000 campaigns (each for its own job opening) x 3 platforms, 273,999 ad groups, their metrics for
365 days (100,009,635 `metrics_daily` rows across 13 monthly partitions), the rollups the sync keeps
(campaign x platform x day, per-campaign totals, day/platform totals, segment totals, campaign x
segment x day), 10,000,000 candidates, and the operational lists (1,000,000 audit events, 100,000
task runs, 10,000 alerts).

Everything is INSERT ... SELECT generate_series on the server (no ORM rows, no Python loops over
rows); tables are loaded without their indexes and indexed after (maintenance_work_mem raised), one
month of metrics per transaction, then VACUUM ANALYZE. Each finished step is recorded in the
`bench_national_steps` table: re-running skips what is done, so an interrupted build resumes at the
step (or month) it was in. The database is kept: the page benches read it (`bench_pages.py
--national`).

Usage:
    PYTHONPATH=src .venv/bin/python bench/national_set.py [--database adflux_national] [--campaigns 10000]
        [--days 365] [--candidates 10000000] [--ad-groups 27.4] [--only STEP_PREFIX ...]

`--ad-groups 8` builds 8 ad groups per campaign instead of 27.4 (still every one of the 8 segments
per campaign, the same rollup rows): 29.2M raw rows instead of 100M, for the pages that read the
rollups only (the raw rows matter for the sync, not for them).

`--only campaign_segments` adds a rollup that a newer AdFlux keeps to a set already built (its
steps alone, then ANALYZE): how migration 0031's table was filled in `adflux_national`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_dataset

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import (
    CampaignMetricDaily,
    CampaignSegmentMetricDaily,
    Candidate,
    MetricDaily,
    TaskRun,
    campaign_search,
)
from adflux.services import campaign_rankings, local_dates, metric_partitions, metrics_store
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CITIES = ["Bogotá D.C.", "Medellín", "Cali", "Barranquilla", "Cartagena", "Pasto", "Neiva", "Pereira"]
SESSION = ["SET maintenance_work_mem = '1GB'", "SET work_mem = '256MB'", "SET synchronous_commit = off"]


def url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def ensure_database(name: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def run(sql: str, **params: Any) -> None:
    db.session.execute(text(sql), params)


def scalar(sql: str, **params: Any) -> Any:
    return db.session.scalar(text(sql), params)


ONLY: list[str] = []  # --only: run just the steps whose names start with one of these


def step(name: str, action: Callable[[], None], log: dict[str, float]) -> None:
    """Run `action` once: skipped when `bench_national_steps` says it finished."""
    if ONLY and not name.startswith(tuple(ONLY)):
        return
    if scalar("SELECT 1 FROM bench_national_steps WHERE step = :s", s=name):
        return
    start = time.perf_counter()
    for statement in SESSION:
        run(statement)
    action()
    seconds = time.perf_counter() - start
    run("INSERT INTO bench_national_steps (step, seconds) VALUES (:s, :t)", s=name, t=seconds)
    db.session.commit()
    log[name] = seconds
    load = os.getloadavg()
    print(f"  {name:<28} {seconds:8.1f} s   load {load[0]:.2f} / {load[1]:.2f}", flush=True)


# -- bulk loading: indexes off while loading, on after ----------------------------------------------


def drop_indexes(table: Table, *, primary: bool = True) -> None:
    """Drop the table's indexes and unique constraints (and its primary key unless `primary` is
    False: a key other tables' foreign keys hang on stays; ascending serial ids cost it little)."""
    kinds = ("PrimaryKeyConstraint", "UniqueConstraint") if primary else ("UniqueConstraint",)
    for index in table.indexes:
        run(f"DROP INDEX IF EXISTS {index.name}")
    for constraint in table.constraints:
        if constraint.name and constraint.__class__.__name__ in kinds:
            run(f"ALTER TABLE {table.name} DROP CONSTRAINT IF EXISTS {constraint.name}")


def create_indexes(table: Table) -> None:
    present = set(db.session.scalars(text("SELECT conname FROM pg_constraint")).all())
    for constraint in table.constraints:
        kind = {"PrimaryKeyConstraint": "PRIMARY KEY", "UniqueConstraint": "UNIQUE"}.get(
            constraint.__class__.__name__
        )
        if kind and constraint.name and constraint.name not in present:
            columns = ", ".join(c.name for c in constraint.columns)
            run(f"ALTER TABLE {table.name} ADD CONSTRAINT {constraint.name} {kind} ({columns})")
    for index in table.indexes:
        if not scalar("SELECT 1 FROM pg_class WHERE relname = :n", n=index.name):
            index.create(db.session.connection())


# -- the steps ------------------------------------------------------------------------------------


def dimensions(campaigns: int, first_day: date) -> None:
    metrics_dataset.build_dimensions(campaigns, first_day)
    # One job opening per campaign, as a portal has (build_dimensions makes one for all).
    run(
        """
        INSERT INTO job_openings (external_ref, title, description, company, city, department, country,
            category, modality, salary_currency, experience_years_min, apply_url, status, created_at,
            updated_at)
        SELECT 'NAT-' || n, 'Oferta nacional ' || n, 'Descripción de la oferta ' || n, 'Empresa ' || n % 700,
               (CAST(:cities AS text[]))[1 + n % 8], 'Depto', 'CO', 'tecnologia', 'presencial', 'COP', n % 6,
               'https://empleos.example.co/ofertas/' || n, 'active', now() - n * interval '1 minute', now()
        FROM generate_series(2, :n) AS n
        """,
        n=campaigns, cities=CITIES,
    )  # fmt: skip
    run(
        "UPDATE campaigns c SET job_id = j.id FROM job_openings j "
        "WHERE j.external_ref = 'NAT-' || (c.id - (SELECT min(id) FROM campaigns) + 1)"
    )


def metrics_month(month: date, first_day: date, last_day: date) -> None:
    start, end = max(month, first_day), min(metric_partitions.next_month(month) - timedelta(days=1), last_day)
    run("SET LOCAL session_replication_role = replica")
    run("SELECT setseed(:s)", s=(month.month + 0.5) / 13)
    run(
        """
        INSERT INTO metrics_daily (ad_group_id, date, platform_campaign_id, campaign_id, platform,
            segment_id, impressions, reach, clicks, engagements, spend_micros, applications, synced_at)
        SELECT g.id, d.day, pc.id, pc.campaign_id, pc.platform, 1 + g.id % 8, s.imp, s.imp * 4 / 5, s.clk,
               CASE WHEN pc.platform = 'google' THEN NULL ELSE s.clk * 3 END, s.clk * 850000, s.clk / 12,
               now()
        FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d(day)
        CROSS JOIN ad_groups g
        JOIN platform_campaigns pc ON pc.id = g.platform_campaign_id
        CROSS JOIN LATERAL (
            SELECT imp, (imp * (0.005 + r * 0.03))::bigint AS clk
            FROM (SELECT (200 + random() * 1800)::bigint + g.id * 0 AS imp, random() + g.id * 0 AS r) x
        ) s
        """,
        start=start, end=end,
    )  # fmt: skip


def rollup_month(month: date) -> None:
    run(
        """
        INSERT INTO campaign_metrics_daily (campaign_id, platform, date, impressions, reach, clicks,
            engagements, spend_micros, applications)
        SELECT campaign_id, platform, date, SUM(impressions), SUM(reach), SUM(clicks), SUM(engagements),
               SUM(spend_micros), SUM(applications)
        FROM metrics_daily WHERE date >= :start AND date < :end
        GROUP BY campaign_id, platform, date
        """,
        start=month, end=metric_partitions.next_month(month),
    )  # fmt: skip


def campaign_segments_month(month: date) -> None:
    """The campaign x segment x day rollup (migration 0031) of one month, from the raw rows."""
    run("SET LOCAL session_replication_role = replica")
    columns = ", ".join(metrics_store.METRIC_COLUMNS)
    sums = ", ".join(f"SUM({c})" for c in metrics_store.METRIC_COLUMNS)
    run(
        f"INSERT INTO campaign_segment_metrics_daily (campaign_id, date, segment_key, {columns}) "
        f"SELECT campaign_id, date, COALESCE(segment_id, 0), {sums} FROM metrics_daily "
        "WHERE date >= :start AND date < :end GROUP BY campaign_id, date, COALESCE(segment_id, 0)",
        start=month, end=metric_partitions.next_month(month),
    )  # fmt: skip


def candidates(count: int) -> None:
    run("SET LOCAL session_replication_role = replica")
    run(
        """
        INSERT INTO candidates (external_ref, birth_year, city, department, education_level,
            years_experience, desired_category, desired_modality, expected_salary, skills, languages,
            marketing_consent, created_at, updated_at)
        SELECT 'N-' || n, 1970 + n % 35, (CAST(:cities AS text[]))[1 + n % 8], 'Depto',
               (ARRAY['bachiller', 'tecnico', 'tecnologo', 'profesional'])[1 + n % 4], n % 20,
               (ARRAY['ventas', 'tecnologia', 'salud', 'logistica'])[1 + n % 4], 'presencial',
               1500000 + n % 5000000, '["sql"]'::jsonb, '["español"]'::jsonb, n % 3 = 0,
               now() - n * interval '1 second', now()
        FROM generate_series(1, :count) AS n
        """,
        count=count, cities=CITIES,
    )  # fmt: skip


def operations(audit: int, tasks: int, alerts: int) -> None:
    run(
        "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, after) "
        "SELECT now() - n * interval '30 seconds', 'bench@national.local', "
        "(ARRAY['campaign.update', 'job.create', 'campaign.pause', 'user.login'])[1 + n % 4], "
        "'campaign', (1 + n % 10000)::text, jsonb_build_object('n', n) FROM generate_series(1, :n) AS n",
        n=audit,
    )
    run(
        "INSERT INTO task_runs (id, kind, status, progress, params, created_at, started_at, finished_at) "
        "SELECT md5(n::text), (ARRAY['metrics_sync', 'publish', 'segmentation'])[1 + n % 3], "
        "(ARRAY['succeeded', 'failed', 'succeeded', 'succeeded'])[1 + n % 4], 1.0, '{}'::jsonb, "
        "now() - n * interval '5 minutes', now() - n * interval '5 minutes', "
        "now() - n * interval '5 minutes' + interval '40 seconds' FROM generate_series(1, :n) AS n",
        n=tasks,
    )
    run(
        "INSERT INTO alerts (rule, key, severity, status, message, value, threshold, details, opened_at, "
        "resolved_at, notifications) "
        "SELECT 'campaign_overspend', 'campaign:' || n, 'warning', "
        "CASE WHEN n % 20 = 0 THEN 'open' ELSE 'resolved' END, 'Gasto por encima del presupuesto', "
        "1.2, 1.0, '{}'::jsonb, now() - n * interval '1 hour', "
        "CASE WHEN n % 20 = 0 THEN NULL ELSE now() - n * interval '1 hour' + interval '2 hours' END, 1 "
        "FROM generate_series(1, :n) AS n",
        n=alerts,
    )


def campaign_search_text() -> None:
    """Migration 0032 on a set built before it: the column, its triggers, backfill, trigram index.
    (A set built after it has them from create_all: the backfill then rewrites the same texts.)"""
    run("ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS search_text text")
    *upkeep, index = campaign_search.create_statements("postgresql")
    for statement in upkeep:
        run(statement)
    run(campaign_search.BACKFILL_STATEMENT)
    run(index)


def audit_events_at_id() -> None:
    """Migration 0032's audit index, in the list's order (a set built after it has it already)."""
    run("CREATE INDEX IF NOT EXISTS ix_audit_events_at_id ON audit_events (at, id)")
    run("DROP INDEX IF EXISTS ix_audit_events_at")


def bench_campaign_ad_groups(per_campaign: int = 27) -> None:
    """The benched campaign (the last one with totals) with as many ad groups as a national one.

    A set built with fewer ad groups per campaign (`--ad-groups`) still shows the campaign page
    its full tables and previews: ad groups without metrics of their own (the pages read the
    rollups) are added to it until it has `per_campaign`."""
    run(
        """
        INSERT INTO ad_groups (platform_campaign_id, name, budget_daily, status, targeting)
        SELECT pc.id, 'Grupo extra ' || n, 50000, 'active', '{}'
        FROM platform_campaigns pc
        CROSS JOIN generate_series(1, :per) AS n
        WHERE pc.campaign_id = (SELECT max(campaign_id) FROM campaign_metric_totals)
          AND n <= :per / 3 - (SELECT count(*) FROM ad_groups g WHERE g.platform_campaign_id = pc.id)
        """,
        per=per_campaign,
    )  # fmt: skip


def build(args: argparse.Namespace) -> dict[str, float]:
    log: dict[str, float] = {}
    run("CREATE TABLE IF NOT EXISTS bench_national_steps (step text PRIMARY KEY, seconds float, "
        "finished_at timestamptz DEFAULT now())")  # fmt: skip
    db.session.commit()
    last_day = local_dates.today() - timedelta(days=1)
    first_day = last_day - timedelta(days=args.days - 1)
    months = sorted({metric_partitions.month_start(first_day + timedelta(days=n)) for n in range(args.days)})
    step("dimensions", lambda: dimensions(args.campaigns, first_day), log)
    step("partitions", lambda: metric_partitions.ensure_months([*months, last_day]), log)
    step("metrics_drop_indexes", lambda: drop_indexes(MetricDaily.__table__), log)
    for month in months:
        step(f"metrics_{month:%Y_%m}", lambda m=month: metrics_month(m, first_day, last_day), log)
    step("metrics_indexes", lambda: create_indexes(MetricDaily.__table__), log)
    step("rollups_drop_indexes", lambda: drop_indexes(CampaignMetricDaily.__table__), log)
    for month in months:
        step(f"rollups_{month:%Y_%m}", lambda m=month: rollup_month(m), log)
    step("rollups_indexes", lambda: create_indexes(CampaignMetricDaily.__table__), log)
    step("campaign_totals", metrics_store.refresh_campaign_totals, log)
    days = [first_day + timedelta(days=n) for n in range(args.days)]
    step("day_and_segment_totals", lambda: metrics_store.refresh_day_totals(days), log)
    step("overview_rankings", campaign_rankings.refresh, log)  # (also done by the step above since 0028)
    segments = CampaignSegmentMetricDaily.__table__
    step("campaign_segments_drop_indexes", lambda: drop_indexes(segments), log)
    for month in months:
        step(f"campaign_segments_{month:%Y_%m}", lambda m=month: campaign_segments_month(m), log)
    step("campaign_segments_indexes", lambda: create_indexes(segments), log)
    step("campaign_segments_covering", lambda: create_indexes(segments), log)  # (added after the above ran)
    step("task_runs_indexes", lambda: create_indexes(TaskRun.__table__), log)  # (0031's, on a built set)
    step("candidates_drop_indexes", lambda: drop_indexes(Candidate.__table__, primary=False), log)
    step("candidates", lambda: candidates(args.candidates), log)
    step("candidates_indexes", lambda: create_indexes(Candidate.__table__), log)
    step("operations", lambda: operations(1_000_000, 100_000, 10_000), log)
    step("campaign_search_text", campaign_search_text, log)
    step("audit_events_at_id", audit_events_at_id, log)
    if args.ad_groups < 27:
        step("bench_campaign_ad_groups", bench_campaign_ad_groups, log)
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="adflux_national")
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--candidates", type=int, default=10_000_000)
    parser.add_argument("--ad-groups", type=float, default=metrics_dataset.AD_GROUPS_PER_CAMPAIGN * 3)
    parser.add_argument(
        "--only", action="append", default=[],
        help="run only the steps whose names start with this (repeatable): a step added to a built set",
    )  # fmt: skip
    args = parser.parse_args()
    ONLY.extend(args.only)
    metrics_dataset.AD_GROUPS_PER_CAMPAIGN = args.ad_groups / 3
    print(f"load average at start: {os.getloadavg()}", flush=True)
    ensure_database(args.database)
    settings = Settings.from_env(
        {}, env="testing", database_url=url(args.database), instance_path="/tmp", metrics_enabled=False
    )
    app = create_app(settings)
    start = time.perf_counter()
    with app.app_context():
        db.create_all()
        log = build(args)
        db.session.remove()
        engine = create_engine(url(args.database), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if log:
                started = time.perf_counter()
                conn.execute(text("ANALYZE" if ONLY else "VACUUM ANALYZE"))
                print(f"  (VACUUM) ANALYZE {time.perf_counter() - started:.1f} s", flush=True)
            counts = {
                table: conn.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("campaigns", "ad_groups", "metrics_daily", "campaign_metrics_daily",
                              "campaign_segment_metrics_daily",
                              "candidates", "audit_events", "task_runs", "alerts")
            }  # fmt: skip
            size = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        engine.dispose()
    print(f"built in {time.perf_counter() - start:.1f} s this run; load average {os.getloadavg()}")
    print(f"database {args.database}: {size}; rows: {counts}")


if __name__ == "__main__":
    main()
