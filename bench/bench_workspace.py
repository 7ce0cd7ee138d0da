"""The marketing manager's workspace pages: server time of every new page over the 10M-row set.

Builds its own scratch PostgreSQL database (`adflux_h21`, dropped at the end) with the metrics
benchmark's data set (metrics_dataset.build_dimensions + build_big_table: 1,000 campaigns x 3
platforms, 27,399 ad groups, 365 days = ~10M daily rows, rollups rebuilt, VACUUM ANALYZE), plus
an active segmentation model of 8 segments, 300 job openings and users, then times each page
through the Flask test client (a signed-in admin; the full request: routing, session, queries,
template, translations), in rounds that alternate a baseline page (the overview, `/`) with each
measured page, so machine noise hits both alike. Prints p50/p95 per page, the ratio of its p95 to
the baseline's p95 in the same rounds, the load average beside the figures, and checks each page
by counting the rows it shows.

Usage:
    .venv/bin/python bench/bench_workspace.py [--days 365] [--campaigns 1000] [--rounds 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics_dataset
import metrics_scratch

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign, MetricDaily, Segment, SegmentationModel, User
from adflux.services import jobs as jobs_service
from adflux.services import local_dates
from adflux.settings import Settings

DATABASE = "adflux_h21"
PASSWORD = "una clave bastante larga para el banco"
LIMIT_MS = 150.0


def pages(campaign_id: int, job_id: int) -> dict[str, tuple[str, str]]:
    """name -> (path, what to count in the answer to check it)."""
    return {
        "jobs (open, page 1)": ("/jobs", "<tr>"),
        "jobs search 'analista' in bogota": ("/jobs?q=analista&city=bogota", "<tr>"),
        "campaign list (newest)": ("/campaigns", "<tr>"),
        "campaign list sorted by spend": ("/campaigns?sort=spend", "<tr>"),
        "campaign list sorted by CPA, searched": ("/campaigns?sort=cpa&dir=asc&q=campana", "<tr>"),
        "campaign page (pacing, KPI changes)": (f"/campaigns/{campaign_id}", "pacing-bar"),
        "campaign review (previews, compliance)": (f"/campaigns/{campaign_id}/review", "mockup "),
        "campaign builder (segments' results)": (f"/campaigns/new?job_id={job_id}", 'name="segment_ids"'),
        "segments explorer": ("/segments", "traits"),
        "admin users": ("/admin/users", "<tr>"),
        "admin tokens": ("/admin/tokens", "token-user"),
        "admin platform accounts": ("/admin/accounts", "acc-platform"),
    }


def seed_extras() -> tuple[int, int]:
    """Openings, an active model with 8 segments, an admin; (a campaign id, a job id)."""
    from werkzeug.security import generate_password_hash

    jobs = []
    cities = ("Bogotá D.C.", "Medellín", "Cali", "Barranquilla")
    for n in range(300):
        jobs.append(
            jobs_service.create_job(
                data={
                    "title": ("Analista de datos" if n % 3 == 0 else "Asesor comercial") + f" {n}",
                    "description": "Trabajo con datos y clientes.",
                    "company": "Acme Colombia S.A.S.",
                    "city": cities[n % 4],
                    "department": "Antioquia",
                    "category": "tecnologia",
                    "modality": "remoto",
                    "apply_url": f"https://empleos.example.co/ofertas/{n}",
                }
            )
        )
    model = SegmentationModel(
        version=1, status="active", k=8, features=["age", "city"], artifact_uri="file:///tmp/m.skops",
        artifact_sha256="0" * 64, silhouette=0.31, davies_bouldin=1.1, calinski_harabasz=900.0,
    )  # fmt: skip
    for i in range(8):
        model.segments.append(
            Segment(
                cluster_index=i, name=f"Segmento {i}", size=1000 + i, share=0.125,
                profile={"top_cities": [{"value": "Bogotá", "share": 0.6}],
                         "age_distribution": [{"value": "25–34", "share": 0.44}],
                         "top_categories": [{"value": "tecnologia", "label": "Tecnología", "share": 0.62}]},
            )
        )  # fmt: skip
    db.session.add(model)
    db.session.add(
        User(email="admin@bench.test", name="Admin", role="admin",
             password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    )  # fmt: skip
    campaign = db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).first()
    assert campaign is not None
    campaign.status = "draft"  # the review page is a draft's
    campaign.end_date = campaign.start_date + timedelta(days=400)
    db.session.commit()
    return campaign.id, jobs[0].id


def sign_in(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)
    answer = client.post(
        "/login", data={"email": "admin@bench.test", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.status_code
    return client


def timed_get(client: Any, path: str) -> tuple[float, str]:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed, response.get_data(as_text=True)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(client: Any, targets: dict[str, tuple[str, str]], rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, (path, marker) in targets.items():
        for _ in range(3):  # warm-up: compiled statements, template cache
            timed_get(client, "/")
            timed_get(client, path)
        base, page = [], []
        count = 0
        for _ in range(rounds):
            base.append(timed_get(client, "/")[0])
            elapsed, html = timed_get(client, path)
            page.append(elapsed)
            count = html.count(marker)
        results[name] = {
            "path": path,
            "p50_ms": statistics.median(page),
            "p95_ms": p95(page),
            "baseline_p95_ms": p95(base),
            "ratio_p95": p95(page) / p95(base),
            "count": count,
            "marker": marker,
            "load_average": os.getloadavg()[0],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    metrics_scratch.BENCH_DATABASE = DATABASE
    metrics_scratch.DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
    metrics_scratch.QUIET_MAX_WAIT = 0.0
    report: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    metrics_scratch.recreate_database()
    try:
        settings = Settings.from_env(
            {},
            env="testing",
            database_url=metrics_scratch.DATABASE_URL,
            instance_path="/tmp",
            metrics_enabled=False,
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            first_day = local_dates.today() - timedelta(days=args.days - 1)
            metrics_dataset.build_dimensions(args.campaigns, first_day)
            report["build"] = metrics_dataset.build_big_table(first_day, args.days)
            report["rows"] = db.session.scalar(select(func.count()).select_from(MetricDaily))
            campaign_id, job_id = seed_extras()
            db.session.remove()
        client = sign_in(app)
        report["pages"] = measure(client, pages(campaign_id, job_id), args.rounds)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        metrics_scratch.drop_database()
    report["load_average_at_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(
        f"{report['rows']:,} metric rows; load average {report['load_average_at_start'][0]:.1f} at start, "
        f"{report['load_average_at_end'][0]:.1f} at end; {args.rounds} rounds, baseline = overview '/'"
    )
    print(f"{'page':<42} {'p95/base':>8} {'p50 ms':>8} {'p95 ms':>8} {'base p95':>9} {'load':>5}  check")
    for name, r in report["pages"].items():
        verdict = "ok" if r["p95_ms"] <= LIMIT_MS else "OVER 150 ms"
        print(
            f"{name:<42} {r['ratio_p95']:>8.2f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['baseline_p95_ms']:>9.1f} {r['load_average']:>5.1f}  {r['count']}x {r['marker']!r} {verdict}"
        )


if __name__ == "__main__":
    main()
