"""Faults with nothing lost, against the real services.

- PostgreSQL restarted while the API serves writes: the API recovers without a restart of its own,
  every write it confirmed is there, and the ones it refused (503) can be retried idempotently.
- Redis down or hung: reads keep working, enqueueing answers 503 within seconds and the task run
  is recorded as failed, never silently dropped.
- A worker process or a whole worker killed mid-task: the broker redelivers the task (acks late,
  reject on worker lost) and it completes once.

Locally these skip when TEST_DATABASE_URL / TEST_REDIS_URL are missing; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from flask import Flask
from sqlalchemy import func, select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import JobOpening, TaskRun
from conftest import TEST_DATABASE_URL, issue_test_token, require_service
from factories import job_data
from worker_helpers import reachable_redis, stop_process_group

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
HERE = Path(__file__).resolve().parent


# ---- PostgreSQL restart --------------------------------------------------------------------


def _postgres_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster that TEST_DATABASE_URL points at."""
    if not TEST_DATABASE_URL or not TEST_DATABASE_URL.startswith("postgres"):
        require_service("PostgreSQL", "set TEST_DATABASE_URL to a local PostgreSQL database")
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        require_service("PostgreSQL", "pg_ctlcluster is needed to restart the local cluster")
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        require_service("PostgreSQL", "no cluster under /etc/postgresql")
    return versions[-1], "main"


def _pg_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def _restart_postgres(version: str, name: str) -> float:
    started = time.monotonic()
    try:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart", "-m", "fast"],
            check=True,
            timeout=60,
            capture_output=True,
        )
    finally:
        # Whatever happened, leave PostgreSQL running for everything else on this machine.
        if not _pg_ready(5):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"],
                check=False,
                timeout=60,
            )
            assert _pg_ready(60), "PostgreSQL did not come back"
    return time.monotonic() - started


@pytest.mark.postgres
@pytest.mark.slow
def test_the_api_survives_a_postgresql_restart_without_losing_a_confirmed_write(app, client):
    version, name = _postgres_cluster()
    before = [client.post("/api/v1/jobs", json=job_data()).status_code for _ in range(10)]
    assert before == [201] * 10

    outcomes: list[tuple[str, int]] = []
    escaped: list[str] = []  # errors the API let through (the test app propagates them)
    stop = threading.Event()

    def writer() -> None:
        # Writes keep coming while the database restarts, as they would from users.
        writer_client = app.test_client()
        writer_client.environ_base.update(client.environ_base)
        while not stop.is_set():
            data = job_data()
            try:
                status = writer_client.post("/api/v1/jobs", json=data).status_code
            except Exception as exc:  # reported by the assertion below
                escaped.append(repr(exc))
                status = 500
            outcomes.append((data["external_ref"], status))
            time.sleep(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.5)
        downtime = _restart_postgres(version, name)
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join(timeout=30)

    # The very next requests work: the pool replaced its dead connections (socket check), no restart.
    assert client.get("/api/v1/jobs", query_string={"page_size": 1}).status_code == 200
    assert client.post("/api/v1/jobs", json=job_data()).status_code == 201

    assert escaped == [], "errors escaped the API during the restart"
    statuses = {status for _, status in outcomes}
    assert statuses <= {201, 503}, f"only created or 'retry later' answers, got {sorted(statuses)}"
    assert 503 in statuses or downtime < 0.5, "writes during the restart should have been refused"
    assert sum(1 for _, status in outcomes if status == 201) > 0

    # A client retries what was refused; external_ref makes it safe (409 = it was there already).
    for ref, status in outcomes:
        if status != 201:
            retried = client.post("/api/v1/jobs", json=job_data(external_ref=ref)).status_code
            assert retried in (201, 409)
    with app.app_context():
        stored = set(db.session.scalars(select(JobOpening.external_ref)))
        total = db.session.scalar(select(func.count()).select_from(JobOpening))
    assert {ref for ref, _ in outcomes} <= stored, "a write was lost"
    assert total == 10 + len(outcomes) + 1


def test_a_database_outage_is_a_503_with_retry_after(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from adflux.services import jobs

    def down(**kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(jobs, "list_jobs", down)
    response = client.get("/api/v1/jobs")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["code"] == "service_unavailable"


# ---- Redis down ----------------------------------------------------------------------------


@pytest.fixture
def hung_broker() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()
    for conn in accepted:
        conn.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_with_redis_down_reads_work_and_enqueueing_is_a_fast_503(app, settings, hung_broker, outage):
    broker = f"redis://127.0.0.1:{_closed_port()}/0" if outage == "stopped" else hung_broker
    broken = create_app(settings.replace(celery_broker_url=broker))
    try:
        _, token = issue_test_token(broken, "manager")
        api = broken.test_client()
        api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        assert api.post("/api/v1/jobs", json=job_data()).status_code == 201
        assert api.get("/api/v1/jobs").status_code == 200

        started = time.perf_counter()
        refused = api.post("/api/v1/reports/sync", json={})
        elapsed = time.perf_counter() - started
        assert refused.status_code == 503 and refused.get_json()["code"] == "service_unavailable"
        assert elapsed < 10, f"enqueueing took {elapsed:.1f} s to give up"

        # Not silently dropped: the run is recorded as failed, with a message a person can read.
        with broken.app_context():
            run = db.session.scalar(select(TaskRun))
        assert run is not None and run.status == "failed" and "unavailable" in (run.error or "")
        assert api.get("/api/v1/jobs").status_code == 200
    finally:
        app.extensions["celery"].set_default()  # the eager Celery of the test app, for later tests


# ---- Worker killed mid-task ----------------------------------------------------------------

FAULT_QUEUE = "adflux-fault-test"
# Well above the probe's run time: a task that runs longer than the visibility timeout is handed
# out again while it still runs (as in production, where the timeout must exceed the longest task).
VISIBILITY_TIMEOUT = 8
PROBE_SECONDS = 2


@pytest.fixture
def broker_url() -> Iterator[str]:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL to run real Celery workers")
    client = reachable_redis(TEST_REDIS_URL)
    client.delete(FAULT_QUEUE, "unacked", "unacked_index")
    yield TEST_REDIS_URL
    client.close()


@pytest.fixture
def start_worker(tmp_path: Path, broker_url: str) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Start a prefork Celery worker (one child) on the fault queue; stopped at the end."""
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "ADFLUX_INSTANCE_PATH": str(tmp_path),
        "ADFLUX_ENV": "development",
        "ADFLUX_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }

    def start(name: str, database_url: str | None = None) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        proc_env = {**env, "DATABASE_URL": database_url} if database_url else env
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "fault_worker:celery_app", "worker", "-Q", FAULT_QUEUE,
             "--pool", "prefork", "-c", "1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "INFO"],
            env=proc_env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append(proc)
        _wait_for(lambda: "ready." in log.read_text(errors="replace"), 60, f"worker {name} to start", log)
        return proc

    yield start
    for proc in started:
        stop_process_group(proc)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)


def _send_probe(broker_url: str, key: str, seconds: float) -> None:
    sender = Celery(broker=broker_url)
    try:
        sender.send_task("adflux.tests.fault_probe", args=[key, seconds], queue=FAULT_QUEUE)
    finally:
        sender.close()


@pytest.mark.redis
@pytest.mark.slow
def test_a_task_whose_worker_process_is_killed_is_redelivered_and_completes_once(broker_url, start_worker):
    store = redis.Redis.from_url(broker_url)
    key = f"adflux-fault:{uuid.uuid4().hex}"
    worker = start_worker("killed-child")
    _send_probe(broker_url, key, seconds=PROBE_SECONDS)

    _wait_for(lambda: store.llen(f"{key}:starts") == 1, 30, "the task to start")
    child = int(store.lindex(f"{key}:starts", 0))
    os.kill(child, signal.SIGKILL)  # the pool process dies mid-task (as under the OOM killer)

    _wait_for(lambda: store.get(f"{key}:done") == b"1", 60, "the redelivered task to finish")
    time.sleep(1)
    starts = [int(pid) for pid in store.lrange(f"{key}:starts", 0, -1)]
    assert len(starts) == 2 and starts[1] != child and store.get(f"{key}:done") == b"1"
    assert worker.poll() is None  # the worker itself carried on with a new pool process
    store.delete(f"{key}:starts", f"{key}:done")


@pytest.mark.redis
@pytest.mark.slow
def test_a_task_whose_whole_worker_dies_is_redelivered_to_another_worker(broker_url, start_worker):
    store = redis.Redis.from_url(broker_url)
    key = f"adflux-fault:{uuid.uuid4().hex}"
    first = start_worker("killed-whole")
    _send_probe(broker_url, key, seconds=PROBE_SECONDS)
    _wait_for(lambda: store.llen(f"{key}:starts") == 1, 30, "the task to start")
    os.killpg(first.pid, signal.SIGKILL)  # the machine or container disappears: no goodbye
    first.wait()
    assert store.get(f"{key}:done") is None

    start_worker("survivor")
    # Unacknowledged, so the broker hands it out again once the visibility timeout has passed.
    _wait_for(lambda: store.get(f"{key}:done") == b"1", 60, "the task to be redelivered and finish")
    time.sleep(1)
    assert store.llen(f"{key}:starts") == 2 and store.get(f"{key}:done") == b"1"
    store.delete(f"{key}:starts", f"{key}:done")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_task_running_while_postgresql_restarts_is_retried_and_writes_once(app, broker_url, start_worker):
    version, name = _postgres_cluster()
    store = redis.Redis.from_url(broker_url)
    key = f"adflux-fault:{uuid.uuid4().hex}"
    ref = f"PG-RESTART-{uuid.uuid4().hex[:8]}"
    start_worker("db-restart", database_url=TEST_DATABASE_URL)
    sender = Celery(broker=broker_url)
    try:
        sender.send_task("adflux.tests.db_probe", args=[key, ref], queue=FAULT_QUEUE)
    finally:
        sender.close()
    _wait_for(lambda: store.llen(f"{key}:starts") == 1, 30, "the task to start")

    _restart_postgres(version, name)  # the task's connection dies in the middle of its transaction
    store.set(f"{key}:go", 1)

    _wait_for(lambda: store.get(f"{key}:done") == b"1", 60, "the task to be retried and finish")
    time.sleep(0.5)
    # The write failed with the restart, the task base retried it (same worker, no restart of
    # its own), and the retry wrote the row once.
    assert [int(n) for n in store.lrange(f"{key}:starts", 0, -1)] == [0, 1]
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(JobOpening.external_ref == ref))
        db.session.remove()
    assert count == 1
    store.delete(f"{key}:starts", f"{key}:done", f"{key}:go")


def test_the_worker_settings_keep_unfinished_tasks(app: Flask):
    conf = app.extensions["celery"].conf
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["socket_timeout"] <= 5


def test_every_task_retries_a_database_outage_without_full_jitter(app: Flask):
    from sqlalchemy.exc import OperationalError

    tasks = [t for name, t in app.extensions["celery"].tasks.items() if name.startswith("adflux.tasks.")]
    assert len(tasks) >= 8
    for task in tasks:
        assert OperationalError in task.autoretry_for, task.name
        assert task.retry_backoff and task.retry_jitter is False, task.name
