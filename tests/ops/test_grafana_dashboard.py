"""The Grafana dashboard queries only metrics that exist: AdFlux's /metrics or the stack's exporters.

Every PromQL expression in deploy/grafana/dashboards/*.json is parsed for metric names; each must
be a metric family the app's /metrics serves (scraped here with a Redis broker, an active model,
a campaign with results and an open alert, so the scrape-time families are all present) or one
of the few the compose stack's exporters serve (listed below with their source). A renamed metric
fails this test instead of leaving an empty panel.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import yaml
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Alert
from conftest import require_service
from ops_data import make_campaign_with_metrics, make_model

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "deploy/grafana/dashboards").glob("*.json"))
BROKER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Metrics the compose stack's other scrape targets serve (deploy/docker/prometheus-compose.yml).
EXPORTER_METRICS = {
    "up": "Prometheus itself, one per scrape target",
    "pg_up": "postgres_exporter (job postgres)",
    "node_cpu_seconds_total": "node_exporter (job postgres-node)",
}
# Served by AdFlux only on PostgreSQL (pg_stat_activity); CI runs this test on PostgreSQL.
POSTGRES_ONLY = {"adflux_db_connections", "adflux_db_max_connections"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "offset", "bool", "inf", "nan"}  # fmt: skip
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (strings, label matchers, groupings removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in PROMQL_WORDS:
            continue  # a function or aggregation, or a keyword
        names.add(match.group())
    return names


def dashboard_queries() -> list[tuple[str, str]]:
    out = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                if (target.get("datasource") or panel.get("datasource", {})).get("type") == "prometheus":
                    out.append((f"{path.name}: {panel['title']}", target["expr"]))
    return out


def test_metric_names_are_read_from_promql():
    expr = 'sum by (le) (rate(adflux_http_request_duration_seconds_bucket{route!~"/x|y"}[5m])) / up'
    assert metric_names(expr) == {"adflux_http_request_duration_seconds_bucket", "up"}
    assert metric_names('1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])) > 0.8') == {
        "node_cpu_seconds_total"
    }


@pytest.fixture
def scraped(app: Flask) -> Iterator[set[str]]:
    """Metric family names (and sample names) the app's /metrics serves, with every part present."""
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    client.flushdb()
    made = create_app(app.extensions["adflux_settings"].replace(celery_broker_url=BROKER_URL))
    try:
        with made.app_context():
            make_model(drift={"psi": {"city": 0.1}})
            make_campaign_with_metrics(target_cpa=50_000, days=[(datetime.now(UTC).date(), 300_000, 2)])
            db.session.add(Alert(rule="high_latency", key="", severity="warning", status="open", message="x"))
            db.session.commit()
            web = made.test_client()
            web.get("/api/v1/jobs").close()
            body = web.get("/metrics").get_data(as_text=True)
            dialect = db.engine.dialect.name
            db.session.remove()
    finally:
        app.extensions["celery"].set_default()
        client.flushdb()
        client.close()
    names = {"dialect:" + dialect}
    for family in text_string_to_metric_families(body):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    yield names


def test_every_metric_the_dashboard_queries_exists(scraped: set[str]):
    queries = dashboard_queries()
    assert len(queries) >= 30, "the dashboard should chart traffic, queues, database, platforms, money, model"
    missing = []
    for where, expr in queries:
        for name in metric_names(expr):
            family = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), name)
            if name in scraped or family in scraped or name in EXPORTER_METRICS:
                continue
            if name in POSTGRES_ONLY and "dialect:postgresql" not in scraped:
                continue
            missing.append(f"{where}: {name}")
    assert not missing, "metrics the dashboard queries but nothing serves:\n" + "\n".join(missing)


def test_the_stack_scrapes_the_exporters_the_dashboard_relies_on():
    config = yaml.safe_load((REPO / "deploy/docker/prometheus-compose.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert {"adflux-web", "adflux-worker", "postgres", "postgres-node"} <= jobs
    compose = yaml.safe_load((REPO / "deploy/docker/compose.yml").read_text())
    assert {"postgres-exporter", "node-exporter", "grafana", "loki", "vector"} <= set(compose["services"])
    grafana = compose["services"]["grafana"]["volumes"]
    assert "../grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana
