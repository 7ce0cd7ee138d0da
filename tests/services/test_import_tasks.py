"""Imports run as background tasks: the request only stores the file and answers 202 with a task id."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest

from adflux.app import create_app
from adflux.constants import TASK_IMPORT_FILE
from adflux.extensions import db
from adflux.models import JobOpening
from conftest import issue_test_token
from factories import job_data

COLUMNS = list(job_data())


def _csv(rows: int, *, bad_every: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for n in range(rows):
        row = job_data(external_ref=f"REF-{n}", description="Analizar datos de ventas " * 8)
        if bad_every and n % bad_every == 0:
            row["category"] = "astronauta"
        writer.writerow(row)
    return out.getvalue().encode()


def _jobs(app) -> int:
    with app.app_context():
        count = db.session.query(JobOpening).count()
        db.session.remove()
        return count


def test_a_large_csv_import_answers_202_and_the_task_reports_every_row(client, app, settings):
    content = _csv(3000, bad_every=500)
    assert len(content) > 700_000
    response = client.post(
        "/api/v1/jobs/import",
        data={"file": (io.BytesIO(content), "ofertas.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    accepted = response.get_json()
    assert set(accepted) == {"task_id", "status", "status_url"}
    run = client.get(accepted["status_url"]).get_json()
    assert run["kind"] == "import.jobs" and run["status"] == "succeeded" and run["progress"] == 100
    assert run["params"]["filename"] == "ofertas.csv" and run["params"]["size_bytes"] == len(content)
    report = run["result"]
    assert report["created"] == 2994 and report["failed"] == 6 and len(report["errors"]) == 6
    assert report["errors"][0]["line"] == 2 and "category" in report["errors"][0]["reason"]
    assert list(Path(settings.import_path).iterdir()) == []  # the stored upload is gone


def test_the_request_never_runs_the_import_itself(app, settings):
    """With a real (non-inline) queue the request returns before any row is written; the task does it."""
    queued = create_app(settings.replace(celery_broker_url="memory://localhost/"))
    assert not queued.extensions["celery"].conf.task_always_eager
    _, token = issue_test_token(queued, "manager")
    api = queued.test_client()
    response = api.post(
        "/api/v1/jobs/import",
        data={"file": (io.BytesIO(_csv(50)), "jobs.csv")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    assert _jobs(app) == 0
    stored = list(Path(settings.import_path).iterdir())
    assert len(stored) == 1 and stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(settings.import_path).stat().st_mode) == 0o700

    task_id = response.get_json()["task_id"]
    with queued.app_context():  # what a worker does with the queued message
        queued.extensions["celery"].tasks[TASK_IMPORT_FILE].apply(args=[task_id], task_id=task_id)
    run = api.get(f"/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert run["status"] == "succeeded" and run["result"]["created"] == 50
    assert _jobs(app) == 50 and list(Path(settings.import_path).iterdir()) == []


def test_a_broken_file_fails_the_task_with_the_reason(client):
    response = client.post(
        "/api/v1/jobs/import",
        data={"file": (io.BytesIO(b"[{oops"), "jobs.json")},
        content_type="multipart/form-data",
    )
    run = client.get(response.get_json()["status_url"]).get_json()
    assert run["status"] == "failed" and run["error"].startswith("The file is not valid JSON")


@pytest.mark.parametrize("role", ["viewer"])
def test_viewers_cannot_import(client_as, role):
    response = client_as(role).post(
        "/api/v1/jobs/import",
        data={"file": (io.BytesIO(_csv(2)), "jobs.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


# ---- with a real Celery worker on Redis -----------------------------------------------------


@pytest.fixture
def redis_worker_app(app, settings, tmp_path):
    """An app whose tasks go to Redis, and one real worker (its own process) on the default queue."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import TEST_DATABASE_URL, require_service

    broker = os.environ.get("TEST_REDIS_URL")
    if not broker or not (TEST_DATABASE_URL or "").startswith("postgres"):
        require_service("Redis and PostgreSQL", "set TEST_REDIS_URL and TEST_DATABASE_URL")
    import redis

    redis.Redis.from_url(broker).delete("default")  # no stale messages for this queue
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL or "",
        "CELERY_BROKER_URL": broker,
        "ADFLUX_INSTANCE_PATH": str(tmp_path),
        "ADFLUX_IMPORT_DIR": settings.import_path,  # shared with the web side, as in production
        "ADFLUX_ENV": "development",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", "default", "--pool", "solo",
         "-n", "imports@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield create_app(settings.replace(celery_broker_url=broker)), log
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        app.extensions["celery"].set_default()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_real_worker_imports_what_the_request_only_stored(app, redis_worker_app):
    import time

    queued, log = redis_worker_app
    _, token = issue_test_token(queued, "manager")
    headers = {"Authorization": f"Bearer {token}"}
    api = queued.test_client()
    response = api.post(
        "/api/v1/jobs/import",
        data={"file": (io.BytesIO(_csv(400, bad_every=100)), "jobs.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    status_url = response.get_json()["status_url"]
    deadline = time.monotonic() + 60
    run = api.get(status_url, headers=headers).get_json()
    while run["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)
        run = api.get(status_url, headers=headers).get_json()
    assert run["status"] == "succeeded", run
    assert (run["result"]["created"], run["result"]["failed"]) == (396, 4)
    assert _jobs(app) == 396
    assert "adflux.tasks.imports.import_file" in log.read_text()  # done by the worker process
