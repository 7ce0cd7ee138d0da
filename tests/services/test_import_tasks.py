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
