"""bench_http's scratch database: created, seeded through the services (jobs, candidates, campaigns,
30 days of metrics, an admin token), reused or dropped.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import scratch_database

REPO = Path(__file__).resolve().parents[1]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# A shared machine: each engineer names their own scratch database (BENCH_HTTP_DATABASE).
BENCH_DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "adflux_bench_http")
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
SEED = 42
JOBS = 5_000
CAMPAIGNS = 200
METRIC_DAYS = 30
CANDIDATES = 20_000


def recreate_database() -> None:
    scratch_database.recreate(BENCH_DATABASE)


def drop_database() -> None:
    scratch_database.drop(BENCH_DATABASE)


def _settings(instance: Path, **overrides: Any) -> Any:
    from adflux.settings import Settings

    values: dict[str, Any] = {
        "env": "testing",
        "database_url": DATABASE_URL,
        "instance_path": str(instance),
        "secret_key": "bench",
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)).fetchone()
            is not None
        )


def seed(instance: Path, *, reuse: bool = False) -> dict[str, Any]:
    """Schema and data through the services; returns an admin token and what was written."""
    if reuse and database_exists():
        return issue_token_only(instance)
    recreate_database()
    import random

    import psycopg
    from sqlalchemy import select

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import Campaign, JobOpening
    from adflux.services import auth as auth_service
    from adflux.services import campaigns as campaigns_service
    from adflux.services import local_dates
    from adflux.services.metrics_store import upsert_metrics
    from adflux.services.seeding import seed_database

    started = time.perf_counter()
    app = create_app(_settings(instance))
    rng = random.Random(SEED)
    with app.app_context():
        db.create_all()
        seed_database(candidates=CANDIDATES, jobs=JOBS, seed=SEED)
        admin = auth_service.create_user(email="bench-admin@adflux.local", role="admin", name="bench")
        token = auth_service.issue_token(user_id=admin.id, name="bench_http", expires_in_days=7).secret
        open_jobs = db.session.scalars(
            select(JobOpening.id).where(JobOpening.status == "open").order_by(JobOpening.id).limit(CAMPAIGNS)
        ).all()
        platforms = ["meta", "google", "tiktok", "x", "snapchat"]
        for job_id in open_jobs:
            chosen = rng.sample(platforms, rng.choice((2, 3)))
            campaigns_service.create_campaign(
                job_id=job_id, platforms=chosen, budget_total=rng.randrange(2, 20) * 1_000_000
            )
        end = local_dates.today()
        rows = []
        for campaign in db.session.scalars(select(Campaign)).all():
            for pc in campaign.platform_campaigns:
                for group in pc.ad_groups:
                    for n in range(METRIC_DAYS):
                        impressions = rng.randrange(1_000, 20_000)
                        clicks = impressions // rng.randrange(30, 90)
                        rows.append(
                            {
                                "ad_group_id": group.id,
                                "date": end - timedelta(days=METRIC_DAYS - 1 - n),
                                "platform_campaign_id": pc.id,
                                "campaign_id": campaign.id,
                                "platform": pc.platform,
                                "segment_id": group.segment_id,
                                "impressions": impressions,
                                "reach": int(impressions * 0.7),
                                "clicks": clicks,
                                "engagements": None,
                                "spend_micros": rng.randrange(20_000, 90_000) * 1_000_000,
                                "applications": clicks // rng.randrange(5, 15),
                            }
                        )
        metric_rows = upsert_metrics(rows)
        db.session.commit()
        server_version = db.session.execute(db.text("SHOW server_version")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "token": token,
        "jobs": JOBS,
        "candidates": CANDIDATES,
        "campaigns": len(open_jobs),
        "metric_rows": metric_rows,
        "postgresql": server_version,
        "seconds": round(time.perf_counter() - started, 1),
    }


def issue_token_only(instance: Path) -> dict[str, Any]:
    """A new admin token in an existing bench database (for --reuse-db)."""
    from sqlalchemy import func, select

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import Campaign, Candidate, JobOpening, MetricDaily, User
    from adflux.services import auth as auth_service

    app = create_app(_settings(instance))
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.role == "admin")).first()
        token = auth_service.issue_token(user_id=admin.id, name="bench_http", expires_in_days=7).secret
        data = {
            "token": token,
            "jobs": db.session.scalar(select(func.count()).select_from(JobOpening)),
            "candidates": db.session.scalar(select(func.count()).select_from(Candidate)),
            "campaigns": db.session.scalar(select(func.count()).select_from(Campaign)),
            "metric_rows": db.session.scalar(select(func.count()).select_from(MetricDaily)),
            "postgresql": db.session.execute(db.text("SHOW server_version")).scalar_one(),
            "reused": True,
        }
        db.session.remove()
        db.engine.dispose()
    return data
