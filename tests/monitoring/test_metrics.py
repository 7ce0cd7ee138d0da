"""/metrics: Prometheus exposition of HTTP, Celery, database, platform, model and campaign metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from adflux.app import create_app
from adflux.extensions import db
from adflux.monitoring import collectors, prometheus
from adflux.settings import Settings
from conftest import require_service
from ops_data import make_account, make_campaign_with_metrics, make_model

REPO = Path(__file__).resolve().parents[2]


def scrape(client) -> dict[str, object]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}


def sample(families, name: str, **labels: str) -> float | None:
    for family in families.values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_http_requests_are_counted_per_route_template_method_and_status(client):
    before = value(
        "adflux_http_requests_total", method="GET", route="/api/v1/jobs/<int:job_id>", status="404"
    )
    client.get("/api/v1/jobs/98765")
    families = scrape(client)
    after = sample(
        families, "adflux_http_requests_total", method="GET", route="/api/v1/jobs/<int:job_id>", status="404"
    )
    assert after == before + 1
    assert sample(families, "adflux_http_request_duration_seconds_count", route="/api/v1/jobs/<int:job_id>")
    # Ids never become label values: one series per route, not per URL. (Only labels are
    # checked: sample values such as *_created timestamps may contain any digits.)
    label_values = {v for family in families.values() for s in family.samples for v in s.labels.values()}
    assert label_values, "no labelled samples scraped"
    assert not [v for v in label_values if "98765" in v]


def test_unmatched_paths_share_one_series(client):
    client.get("/no/such/page/123")
    client.get("/another/missing/456")
    families = scrape(client)
    assert sample(families, "adflux_http_requests_total", route=prometheus.UNMATCHED_ROUTE, status="404")


def test_server_errors_are_counted_as_errors(tmp_path):
    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path), secret_key="k" * 20))

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    before = value("adflux_http_request_errors_total", method="GET", route="/boom", status="500")
    assert app.test_client().get("/boom", headers={"Accept": "application/json"}).status_code == 500
    assert value("adflux_http_request_errors_total", method="GET", route="/boom", status="500") == before + 1


def test_metric_names_follow_prometheus_conventions(client, app_ctx):
    make_model(drift={"psi": {"city": 0.3}})
    families = scrape(client)
    ours = {name: f for name, f in families.items() if name.startswith("adflux_")}
    assert len(ours) > 20
    for name, family in ours.items():
        assert name == name.lower() and " " not in name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), name
        if family.type == "histogram":
            assert name.endswith("_seconds"), name
        assert not name.endswith("_total") or family.type == "counter", name
        assert family.documentation, f"{name} has no help text"


def test_celery_tasks_are_counted_started_succeeded_failed_with_duration(app):
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.metrics.ok")
    def ok() -> int:
        return 1

    @celery_app.task(name="tests.metrics.broken")
    def broken() -> None:
        raise ValueError("no")

    ok.apply_async()
    broken.apply_async()
    assert value("adflux_celery_tasks_started_total", task="tests.metrics.ok") >= 1
    assert value("adflux_celery_tasks_succeeded_total", task="tests.metrics.ok") >= 1
    assert value("adflux_celery_tasks_failed_total", task="tests.metrics.broken") >= 1
    assert value("adflux_celery_task_duration_seconds_count", task="tests.metrics.ok") >= 1


def test_retries_are_counted(app):
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.metrics.flaky", bind=True, max_retries=1, default_retry_delay=0)
    def flaky(self) -> None:
        raise self.retry(exc=RuntimeError("later"))

    flaky.apply_async()
    assert value("adflux_celery_tasks_retried_total", task="tests.metrics.flaky") >= 1


def test_database_query_latency_and_pool_use_are_measured(client):
    before = value("adflux_db_query_duration_seconds_count", operation="select")
    client.get("/api/v1/jobs")
    assert value("adflux_db_query_duration_seconds_count", operation="select") > before
    families = scrape(client)
    assert "adflux_db_pool_connections_in_use" in families
    assert sample(families, "adflux_db_pool_size") is not None


def test_statement_kinds_are_low_cardinality():
    assert prometheus.statement_operation("  SELECT 1") == "select"
    assert prometheus.statement_operation("WITH x AS (SELECT 1) SELECT * FROM x") == "select"
    assert prometheus.statement_operation("INSERT INTO t VALUES (1)") == "insert"
    assert prometheus.statement_operation("PRAGMA foreign_keys=ON") == "other"


def test_platform_api_metrics_are_exported(client):
    from adflux.platforms.instrumentation import API_CALLS

    API_CALLS.labels("meta", "create_campaign").inc()
    families = scrape(client)
    assert (
        sample(families, "adflux_platform_api_calls_total", platform="meta", operation="create_campaign") >= 1
    )
    assert "adflux_platform_throttles" in families and "adflux_platform_api_errors" in families


def test_model_metrics_come_from_the_active_version(client, app_ctx):
    make_model(version=3, status="retired", silhouette=0.2)
    make_model(
        version=4, status="active", silhouette=0.47, drift={"features": {"city": {"psi": 0.12}, "age": 0.31}}
    )
    families = scrape(client)
    assert sample(families, "adflux_model_active_version") == 4
    assert sample(families, "adflux_model_silhouette", version="4") == pytest.approx(0.47)
    assert sample(families, "adflux_model_drift", version="4") == pytest.approx(0.31)
    assert sample(families, "adflux_model_versions", status="retired") == 1


def test_campaign_spend_applications_and_cpa(client, app_ctx):
    today = datetime.now(UTC).date()
    campaign = make_campaign_with_metrics(
        target_cpa=40_000, days=[(today, 200_000, 4), (today - timedelta(days=3), 100_000, 1)]
    )
    families = scrape(client)
    assert sample(families, "adflux_campaign_spend_pesos", platform="meta", period="today") == 200_000
    assert sample(families, "adflux_campaign_spend_pesos", platform="meta", period="last_30_days") == 300_000
    assert sample(families, "adflux_campaign_applications", platform="meta", period="last_30_days") == 5
    assert sample(families, "adflux_campaign_cpa_pesos", campaign_id=str(campaign.id)) == 60_000
    assert sample(families, "adflux_campaign_target_cpa_pesos", campaign_id=str(campaign.id)) == 40_000
    assert sample(families, "adflux_campaigns", status="active") == 1


def test_token_expiry_and_disk_space_are_exported(client, app_ctx):
    expires = datetime.now(UTC) + timedelta(days=3)
    account = make_account(token_expires_at=expires)
    families = scrape(client)
    got = sample(
        families,
        "adflux_platform_token_expiry_timestamp_seconds",
        platform="meta",
        account_id=str(account.id),
    )
    assert got == pytest.approx(expires.timestamp())
    assert sample(families, "adflux_disk_free_bytes", volume="backups") > 0
    assert sample(families, "adflux_disk_free_bytes", volume="models") > 0
    assert sample(families, "adflux_process_resident_memory_bytes") > 0
    assert sample(families, "adflux_process_cpu_seconds_total") > 0


def test_a_failing_collector_is_reported_and_the_rest_still_exported(client, monkeypatch):
    def missing_table(settings):
        raise RuntimeError('relation "metrics_daily" does not exist')

    monkeypatch.setitem(collectors.PARTS, "campaigns", missing_table)
    families = scrape(client)
    assert sample(families, "adflux_scrape_collector_success", collector="campaigns") == 0
    assert sample(families, "adflux_scrape_collector_success", collector="models") == 1
    assert "adflux_http_requests" in families


def test_metrics_token_protects_the_endpoint(tmp_path):
    settings = Settings.from_env(
        {}, env="testing", instance_path=str(tmp_path), secret_key="k" * 20, metrics_token="scrape-me"
    )
    client = create_app(settings).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200


def test_metrics_can_be_turned_off(tmp_path):
    settings = Settings.from_env({}, env="testing", instance_path=str(tmp_path), metrics_enabled=False)
    assert create_app(settings).test_client().get("/metrics").status_code == 404


@pytest.mark.redis
def test_queue_lengths_are_read_from_the_redis_broker(tmp_path):
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    queue = "maintenance"
    client.delete(queue, f"{queue}\x06\x163")
    client.rpush(queue, "a", "b")
    client.rpush(f"{queue}\x06\x163", "c")
    try:
        settings = Settings.from_env(
            {}, env="testing", instance_path=str(tmp_path), celery_broker_url=url, secret_key="k" * 20
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
        families = scrape(app.test_client())
        assert sample(families, "adflux_celery_queue_length", queue=queue) == 3
        assert sample(families, "adflux_celery_broker_up") == 1
    finally:
        client.delete(queue, f"{queue}\x06\x163")


def test_a_dead_broker_is_reported_not_fatal(tmp_path):
    settings = Settings.from_env(
        {},
        env="testing",
        instance_path=str(tmp_path),
        celery_broker_url="redis://127.0.0.1:1/0",
        health_timeout_seconds=0.2,
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    families = scrape(app.test_client())
    assert sample(families, "adflux_celery_broker_up") == 0


MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing, os, runpy, sys
    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.settings import Settings
    from prometheus_client.parser import text_string_to_metric_families

    tmp = sys.argv[1]
    app = create_app(Settings.from_env({}, env="testing", instance_path=tmp, secret_key="k" * 20))
    app.add_url_rule("/ping", "ping", lambda: "pong")
    with app.app_context():
        db.create_all()
        db.engine.dispose()

    def serve(n):
        client = app.test_client()
        for _ in range(n):
            assert client.get("/ping").status_code == 200
        with app.app_context():
            db.engine.dispose()

    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=serve, args=(n,)) for n in (3, 4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    conf = runpy.run_path(sys.argv[2])
    for w in workers:
        conf["child_exit"](None, w)  # what gunicorn calls when a worker exits
    text = app.test_client().get("/metrics").get_data(as_text=True)
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "adflux_http_requests_total" and s.labels.get("route") == "/ping":
                out["ping"] = out.get("ping", 0) + s.value
            if s.name == "adflux_process_resident_memory_bytes":
                out["memory"] = s.value
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_multiprocess_mode_adds_up_every_worker(tmp_path):
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    script = tmp_path / "mp.py"
    script.write_text(MULTIPROCESS_SCRIPT)
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(REPO / "gunicorn.conf.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["ping"] == 7  # 3 + 4 requests served by two different processes
    # The exited workers' memory no longer counts; only the scraping process remains.
    assert 0 < out["memory"] < 2 * prometheus.resident_memory_bytes()
    assert any(p.name.startswith("counter_") for p in metrics_dir.iterdir())


def test_gunicorn_config_clears_the_metrics_dir_on_start(tmp_path, monkeypatch):
    import runpy

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / "prom"
    stale.mkdir()
    (stale / f"counter_{int(gone.stdout)}.db").write_bytes(b"old")  # left by a process that is gone
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(stale))
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    conf["on_starting"](None)
    assert stale.exists() and not any(stale.iterdir())
    assert conf["accesslog"] is None and conf["workers"] >= 1


@pytest.mark.parametrize(
    ("environment", "worker_class", "threads"),
    [
        ({}, "sync", 1),  # measured faster for AdFlux's short requests (bench/README.md)
        ({"GUNICORN_THREADS": "4"}, "gthread", 4),
        ({"GUNICORN_WORKER_CLASS": "gthread"}, "gthread", 1),
    ],
)
def test_gunicorn_starts_sync_workers_unless_threads_are_asked_for(
    tmp_path, monkeypatch, environment, worker_class, threads
):
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prom"))
    for name in ("GUNICORN_THREADS", "GUNICORN_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert (conf["worker_class"], conf["threads"]) == (worker_class, threads)


def test_gunicorn_workers_freeze_what_the_app_loaded(tmp_path, monkeypatch):
    import gc
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prom"))
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # the test process's modules and app objects
    finally:
        gc.unfreeze()
