"""Hostile input gets a 4xx in the one error shape, never a 500, and nothing is written."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Candidate, JobOpening
from factories import candidate_data, job_data


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/jobs", {"json": job_data(title="Cargo\x00raro")}),
        ("POST", "/api/v1/jobs", {"json": {"title\x00": "x"}}),
        ("GET", "/api/v1/jobs", {"query_string": {"q": "a\x00b"}}),
        ("GET", "/api/v1/audit-events", {"query_string": {"actor": "\x00"}}),
        ("POST", "/api/v1/tokens", {"json": {"name": "a\x00b"}}),
        ("POST", "/api/v1/candidates/import", {"data": {"format": "json\x00"}}),
    ],
)
def test_nul_characters_are_refused_before_reaching_the_database(client, app, method, path, kwargs):
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error" and "NUL characters are not allowed" in json.dumps(body)
    assert _count(app, JobOpening) == 0


def test_a_nul_in_a_path_parameter_is_not_found(client):
    assert client.get("/api/v1/tasks/abc%00def").status_code == 404


def test_imported_rows_with_nul_characters_are_rejected_rows(client, app):
    content = json.dumps([candidate_data(city="Ca\x00li"), candidate_data()]).encode()
    response = client.post(
        "/api/v1/candidates/import",
        data={"file": (io.BytesIO(content), "candidatos.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202  # imported by a background task
    report = client.get(response.get_json()["status_url"]).get_json()["result"]
    assert report["created"] == 1 and report["failed"] == 1
    assert "NUL" in report["errors"][0]["reason"]
    assert _count(app, Candidate) == 1


def test_ids_beyond_what_the_database_holds_are_404_or_422(client):
    assert client.get(f"/api/v1/jobs/{2**31}").status_code == 404
    assert client.get(f"/api/v1/jobs/{2**70}").status_code == 404
    assert client.get("/api/v1/candidates", query_string={"segment_id": 2**63}).status_code == 422


def test_oversized_requests_are_413_in_the_error_shape(app, settings):
    from conftest import issue_test_token

    small = create_app(settings.replace(max_content_length=1024))
    _, token = issue_test_token(small, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    with small.test_client() as api:
        too_big_json = api.post(
            "/api/v1/jobs",
            data=b'{"title": "' + b"x" * 4096 + b'"}',
            headers=headers,
            content_type="application/json",
        )
        upload = api.post(
            "/api/v1/jobs/import",
            data={"file": (io.BytesIO(b"x" * 4096), "jobs.csv")},
            headers=headers,
            content_type="multipart/form-data",
        )
    for response in (too_big_json, upload):
        assert response.status_code == 413
        assert response.get_json()["code"] == "payload_too_large"
    assert _count(app, JobOpening) == 0


def test_malformed_json_is_a_400_in_the_error_shape(client):
    response = client.post("/api/v1/jobs", data=b'{"title": ', content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.get_json()) == {"code", "message", "errors"}


def test_the_login_page_escapes_what_it_echoes(anon_client):
    page = anon_client.get("/login", query_string={"next": '"><script>alert(1)</script>'})
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
