"""The same-run baseline of bench_http: a bare Flask app (a hello-world and a plain Core query)."""

from __future__ import annotations

import os
from typing import Any

BASELINE_ENDPOINTS = {"hello": "/hello", "jobs_core": "/jobs_core"}


def baseline_app() -> Any:
    """A bare Flask app with no AdFlux middleware: what gunicorn + Flask (+ a Core query) can do.

    Served by the same gunicorn settings: ``gunicorn --pythonpath bench "http_baseline_app:baseline_app()"``.
    `/jobs_core` reads the same 20 rows as the job list (newest first) with a plain SQLAlchemy Core
    text query and `.mappings()`, the way the performance anchors measured it; no token, no count.
    """
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    app = Flask("baseline")
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=2, pool_pre_ping=True)
    query = text(
        "SELECT id, external_ref, title, description, company, city, department, country, category, "
        "modality, salary_min, salary_max, salary_currency, education_required, experience_years_min, "
        "apply_url, status, created_at, updated_at, closed_at FROM job_openings ORDER BY id DESC LIMIT 20"
    )

    @app.get("/hello")
    def hello() -> Any:
        return jsonify({"hello": "world"})

    @app.get("/jobs_core")
    def jobs_core() -> Any:
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            for key in ("created_at", "updated_at", "closed_at"):
                if row[key] is not None:
                    row[key] = row[key].isoformat()
        return jsonify({"items": rows})

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    return app
