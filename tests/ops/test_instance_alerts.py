"""Instance counts and service-down with a real Celery worker on Redis (the built-in evaluator).

A worker consuming two queues is started as a process; the scrape exports web processes (by
heartbeat) and workers per queue; `instances_below_minimum` fires for the queues nobody consumes;
when the worker is killed, `service_down` names it; when it is back, the alert resolves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring import instances
from adflux.services import alerting
from worker_helpers import flushed_broker, stop_process_group

pytestmark = [pytest.mark.redis, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def broker() -> Iterator[str]:
    with flushed_broker(BROKER_URL) as url:
        yield url


@pytest.fixture
def redis_app(app: Flask, broker: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setattr(instances, "_last_beat", 0.0)
    instances.clear_worker_cache()
    settings = app.extensions["adflux_settings"].replace(celery_broker_url=broker, alert_webhook_url=None)
    made = create_app(settings)
    with made.app_context():
        yield made
        db.session.remove()
    app.extensions["celery"].set_default()
    instances.clear_worker_cache()


def _start_worker(tmp_path: Path, broker: str, name: str) -> subprocess.Popen:
    log = tmp_path / f"{name}.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "CELERY_BROKER_URL": broker,
        "ADFLUX_INSTANCE_PATH": str(tmp_path),
        "ADFLUX_ENV": "development",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", "publishing,sync",
         "--pool", "solo", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def _instances_metric(app: Flask) -> dict[tuple[str, str], float]:
    body = app.test_client().get("/metrics").get_data(as_text=True)
    return {
        (s.labels["kind"], s.labels["queue"]): s.value
        for family in text_string_to_metric_families(body)
        if family.name == "adflux_instances"
        for s in family.samples
    }


def _open(rule: str) -> dict[str, str]:
    rows = db.session.scalars(db.select(Alert).where(Alert.rule == rule, Alert.status == "open"))
    return {a.key: a.message for a in rows}


def test_instances_are_counted_and_a_killed_worker_is_reported_down(redis_app, broker, tmp_path):
    proc = _start_worker(tmp_path, broker, "instancetest")
    try:
        redis_app.test_client().get("/healthz").close()  # the heartbeat, sent once the response closes
        counts = _instances_metric(redis_app)
        assert counts[("web", "")] == 1
        assert counts[("worker", "publishing")] == 1 and counts[("worker", "sync")] == 1
        assert counts[("worker", "default")] == 0 and counts[("worker", "training")] == 0

        alerting.evaluate(rules=("instances_below_minimum", "service_down"))
        below = _open("instances_below_minimum")
        assert set(below) == {"queue:default", "queue:training", "queue:maintenance", "queue:automation"}
        assert below["queue:default"] == "0 workers que consumen default (mínimo 1)"
        assert _open("service_down") == {}
        _page_shows_workers(redis_app)

        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
        alerting.evaluate(rules=("instances_below_minimum", "service_down"))
        down = _open("service_down")
        assert len(down) == 1
        key, message = next(iter(down.items()))
        assert key.startswith("worker:instancetest@") and "dejó de responder" in message
        assert "queue:publishing" in _open("instances_below_minimum")

        proc = _start_worker(tmp_path, broker, "instancetest")
        result = alerting.evaluate(rules=("service_down",))
        assert len(result.resolved) == 1 and _open("service_down") == {}
    finally:
        stop_process_group(proc)


def test_a_web_process_that_stops_stamping_no_longer_counts(redis_app):
    settings = redis_app.extensions["adflux_settings"]
    redis_app.test_client().get("/healthz").close()
    assert instances.web_processes(settings) == [instances.process_name()]
    later = time.time() + instances.STALE_SECONDS + 1
    assert instances.web_processes(settings, now=later) == []
    # The stale stamp was dropped above: no web process is left to count.
    alerting.evaluate(rules=("instances_below_minimum",))
    assert _open("instances_below_minimum")["web"] == "0 procesos web (mínimo 1)"


def test_embedded_mode_has_no_instances_to_count(app_ctx, app):
    result = alerting.evaluate(rules=("instances_below_minimum", "service_down", "database_down"))
    assert set(result.skipped) == {"instances_below_minimum", "service_down", "database_down"}
    body = app.test_client().get("/metrics").get_data(as_text=True)
    assert "adflux_instances" not in body


def _page_shows_workers(app: Flask) -> None:
    """The system-health page lists the queues with their workers and the beat's last evaluation."""
    import re

    from web.conftest import create_user, sign_in

    create_user(app, "admin-colas@portal.test", "admin")
    client = app.test_client()
    sign_in(client, "admin-colas@portal.test")
    page = client.get("/system-health").get_data(as_text=True)
    rows = dict(
        re.findall(r'data-queue="(\w+)">.*?<td class="num">[^<]*</td><td class="num">(\d+)</td>', page, re.S)
    )
    assert rows == {"default": "0", "publishing": "1", "sync": "1", "training": "0", "maintenance": "0",
                    "automation": "0"}  # fmt: skip
    assert "Aún no hay evaluaciones de alertas registradas." in page  # partial runs do not count
    instances.mark_evaluated(app.extensions["adflux_settings"])  # what a full (beat) evaluation notes
    page = client.get("/system-health").get_data(as_text=True)
    assert "Última evaluación de alertas" in page
