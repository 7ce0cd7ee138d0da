"""Large lists through the real API view: exact COUNT + OFFSET (before) vs capped total + cursor.

Builds N candidates (default 10,000,000) in its own scratch PostgreSQL database
(`adflux_bench_lists`) with INSERT ... SELECT generate_series, then times requests to
`GET /api/v1/candidates` through the Flask test client (routing, auth by API token, validation,
the service, serialisation: the whole view), alternating every round between:
  - before: the total counted exactly (pagination.COUNT_CAP set beyond the table), as every list did
    until 2026-12-06;
  - after: the total exact up to 10,000 rows, else the planner's estimate; and a deep page fetched
    by keyset cursor instead of OFFSET.
Cases: the first page; a city filter; page 5,000 by OFFSET vs the same rows by cursor.
Results are checked: every response has page_size items, and the cursor page holds the same ids as
the OFFSET page.

Usage:
    .venv/bin/python bench/bench_lists.py [--candidates 10000000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import ApiToken, User
from adflux.services import pagination
from adflux.services.auth import hash_token
from adflux.settings import Settings

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NAME = "adflux_bench_lists"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}"
CITIES = ["Bogotá D.C.", "Medellín", "Cali", "Barranquilla", "Cartagena", "Pasto", "Neiva", "Pereira"]


def admin(sql: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def build(count: int) -> float:
    start = time.perf_counter()
    conn = db.session.connection()
    conn.execute(text("ALTER TABLE candidates DROP CONSTRAINT IF EXISTS candidates_external_ref_key"))
    conn.execute(
        text(
            """
            INSERT INTO candidates (external_ref, birth_year, city, department, education_level,
                years_experience, desired_category, desired_modality, expected_salary, skills, languages,
                marketing_consent, created_at, updated_at)
            SELECT 'B-' || n, 1970 + n % 35, (CAST(:cities AS text[]))[1 + n % 8], 'Depto',
                   'profesional', n % 20, 'ventas', 'presencial', 1500000 + n % 5000000,
                   '["sql"]'::jsonb, '["español"]'::jsonb, n % 3 = 0, now(), now()
            FROM generate_series(1, :count) AS n
            """
        ),
        {"count": count, "cities": CITIES},
    )
    conn.execute(
        text("ALTER TABLE candidates ADD CONSTRAINT candidates_external_ref_key UNIQUE (external_ref)")
    )
    db.session.commit()
    engine = create_engine(URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("VACUUM ANALYZE candidates"))
    engine.dispose()
    return time.perf_counter() - start


def token() -> str:
    prefix = secrets.token_hex(4)
    value = f"adf_{prefix}_{secrets.token_urlsafe(24)}"
    user = User(email="bench@lists.local", name="bench", role="viewer")
    db.session.add(user)
    db.session.flush()
    db.session.add(ApiToken(user_id=user.id, name="bench", prefix=prefix, token_hash=hash_token(value)))
    db.session.commit()
    return value


def timed(call: Callable[[], dict[str, Any]], size: int) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    body = call()
    elapsed = time.perf_counter() - start
    assert len(body["items"]) == size, body
    return elapsed, body


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{NAME}"')
    try:
        settings = Settings.from_env(
            {}, env="testing", database_url=URL, instance_path="/tmp", metrics_enabled=False
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            seconds = build(args.candidates)
            rows = db.session.scalar(text("SELECT count(*) FROM candidates"))
            print(f"built {rows:,} candidates in {seconds:.0f} s")
            client = app.test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token()}"
            db.session.remove()
        size, deep = 20, 5000

        def get(query: str) -> dict[str, Any]:
            response = client.get(f"/api/v1/candidates?page_size={size}&{query}")
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            return response.get_json()

        # The cursor that starts where OFFSET page `deep` starts: the id just before it.
        with app.app_context():
            before_deep = db.session.scalar(
                text("SELECT id FROM candidates ORDER BY id OFFSET :n LIMIT 1"), {"n": (deep - 1) * size - 1}
            )
        cursor = pagination.Keyset((db.Model.metadata.tables["candidates"].c.id,)).encode(
            type("Row", (), {"id": before_deep})()
        )
        cases = {
            "first page": ("page=1", "page=1"),
            "city filter (1 in 8)": ("city=medellin", "city=medellin"),
            f"page {deep:,}": (f"page={deep}", f"cursor={cursor}"),
        }
        results: dict[str, dict[str, list[float]]] = {name: {"before": [], "after": []} for name in cases}
        exact_cap, capped = 10**12, pagination.COUNT_CAP
        checks = []
        for _ in range(args.rounds):
            for name, (old_query, new_query) in cases.items():
                pagination.COUNT_CAP = exact_cap
                elapsed, old_body = timed(lambda q=old_query: get(q), size)
                results[name]["before"].append(elapsed)
                pagination.COUNT_CAP = capped
                elapsed, new_body = timed(lambda q=new_query: get(q), size)
                results[name]["after"].append(elapsed)
                if name.startswith("page "):
                    checks.append(
                        [i["id"] for i in old_body["items"]] == [i["id"] for i in new_body["items"]]
                    )
        load = os.getloadavg()
        print(f"\nGET /api/v1/candidates (page_size {size}), {args.rounds} rounds alternated; "
              f"load average {load[0]:.2f}, {load[1]:.2f}")  # fmt: skip
        for name, runs in results.items():
            ratio = statistics.median(runs["before"]) / statistics.median(runs["after"])
            print(
                f"  {name:<24} before {summary(runs['before'])} | after {summary(runs['after'])}"
                f" | {ratio:5.1f}x"
            )
        print(f"  total shown after: {new_body['total']:,} (estimated: {new_body['total_estimated']}); "
              f"exact before: {old_body['total']:,}")  # fmt: skip
        print(f"  deep page by cursor holds the same ids as by OFFSET: {all(checks)} ({len(checks)} rounds)")
    finally:
        admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
