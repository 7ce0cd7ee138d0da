"""Structured logs: JSON lines with request and task context, no secrets or PII, one traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask, g

from adflux.api.auth import public
from adflux.app import create_app
from adflux.monitoring import logs
from adflux.settings import Settings
from conftest import issue_test_token


class Capture:
    """A root handler with AdFlux's filters, writing formatted lines to a buffer."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(formatter)
        logs.install_filters(self.handler)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]


@pytest.fixture
def json_logs() -> Iterator[Capture]:
    capture = Capture(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture.handler)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture.handler)
    root.setLevel(old_level)


def _one(capture: Capture, logger: str) -> dict:
    found = [r for r in capture.records() if r["logger"] == logger]
    assert len(found) == 1, capture.text
    return found[0]


def test_access_line_is_json_with_request_id_route_status_duration_and_user(app, json_logs):
    user_id, token = issue_test_token(app, "viewer", email="ana@example.com")
    response = app.test_client().get(
        "/api/v1/jobs/12345", headers={"X-Request-ID": "abc-123", "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "abc-123"
    line = _one(json_logs, "adflux.access")
    assert line["request_id"] == "abc-123"
    assert line["route"] == "/api/v1/jobs/<int:job_id>"
    assert line["status"] == 404
    assert line["method"] == "GET"
    assert line["duration_ms"] >= 0
    assert line["user_id"] == user_id and line["user_role"] == "viewer"
    assert "ana@example.com" not in json_logs.text  # the user is identified by id, not e-mail


def test_the_access_line_is_redacted_like_every_other_record(client, json_logs):
    # Built pre-redacted (adflux.monitoring.logs._access_log): a request id shaped like an API
    # token and an e-mail in the path come out as the redaction filter writes them.
    response = client.get("/api/v1/users/ana@example.com", headers={"X-Request-ID": "adf_abc_secret123"})
    assert response.headers["X-Request-ID"] == "adf_abc_secret123"  # the caller gets its own id back
    line = _one(json_logs, "adflux.access")
    assert line["request_id"] == "adf_[REDACTED]"
    assert line["message"] == f"GET /api/v1/users/[email] {response.status_code}"
    assert "ana@example.com" not in json_logs.text and "secret123" not in json_logs.text
    assert "task_id" not in line and line["logger"] == "adflux.access" and line["level"] == "INFO"


def test_a_caller_request_id_that_is_not_safe_is_replaced(client):
    response = client.get("/api/v1/jobs", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] != "bad id <script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_probe_paths_log_at_debug_only(client, json_logs):
    logging.getLogger("adflux.access").setLevel(logging.INFO)
    try:
        client.get("/healthz")
    finally:
        logging.getLogger("adflux.access").setLevel(logging.NOTSET)
    assert not [r for r in json_logs.records() if r["logger"] == "adflux.access"]


def test_secrets_tokens_and_emails_never_reach_the_log(json_logs):
    log = logging.getLogger("adflux.test")
    log.warning(
        "calling %s with Authorization: Bearer EAAB1234secretvalue for ana.perez@example.co",
        "https://graph.example/act_1/campaigns?access_token=EAAsecret&fields=id",
        extra={
            "password": "hunter2hunter2",
            "headers": {"Authorization": "Basic dXNlcjpwYXNz", "Accept": "application/json"},
            "body": '{"client_secret": "shh-very-secret", "name": "ok"}',
            "dsn": "postgresql://adflux:pg-secret@db.internal/adflux",
            "contact": "+57 310 555 1234",
            "api": "adf_ab12cd_Zsecretpart",
            "token_expires_at": "2026-01-01T00:00:00+00:00",
        },
    )
    text = json_logs.text
    for secret in (
        "EAAB1234secretvalue",
        "EAAsecret",
        "ana.perez@example.co",
        "hunter2hunter2",
        "dXNlcjpwYXNz",
        "shh-very-secret",
        "pg-secret",
        "310 555 1234",
        "Zsecretpart",
    ):
        assert secret not in text, secret
    record = json_logs.records()[0]
    assert record["headers"]["Accept"] == "application/json"
    assert record["token_expires_at"].startswith("2026-01-01")  # harmless "token" field kept
    assert "fields=id" in record["message"]  # the rest of the URL stays readable


def test_secrets_in_a_traceback_are_redacted(json_logs):
    try:
        raise RuntimeError("login failed for maria@example.com with password=Secreto123")
    except RuntimeError:
        logging.getLogger("adflux.test").exception("boom")
    text = json_logs.text
    assert "maria@example.com" not in text and "Secreto123" not in text
    assert "Traceback" in json_logs.records()[0]["exc_info"]


def test_an_exception_logged_twice_keeps_one_stack_trace(json_logs):
    log = logging.getLogger("adflux.test")
    try:
        raise ValueError("kaput")
    except ValueError as exc:
        log.exception("task failed")
        # What Celery's tracer does after the task logged and re-raised.
        log.error("Task raised unexpected: %r", exc, exc_info=(type(exc), exc, exc.__traceback__))
    first, second = json_logs.records()
    assert "Traceback" in first["exc_info"]
    assert "exc_info" not in second and second["traceback_logged_earlier"] is True


def test_unhandled_error_is_logged_once_with_stack_trace_and_hidden_from_client(tmp_path, json_logs):
    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path), secret_key="x" * 20))

    @app.get("/api/v1/explode")
    @public
    def explode() -> str:
        raise RuntimeError("internal detail: user=carlos@example.com")

    response = app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    body = response.get_json()
    assert body == {"code": "internal_error", "message": "Error interno del servidor", "errors": {}}
    errors = [r for r in json_logs.records() if r["level"] == "ERROR"]
    assert len(errors) == 1
    assert "RuntimeError: internal detail" in errors[0]["exc_info"]
    assert "carlos@example.com" not in json_logs.text
    assert errors[0]["request_id"] == response.headers["X-Request-ID"]


def test_celery_tasks_log_with_their_task_id_and_name_and_the_enqueuing_request(app, json_logs):
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.monitoring.say_hello")
    def say_hello() -> None:
        logging.getLogger("adflux.test.task").info("hello from the task")

    with app.test_request_context("/"):
        g.request_id = "req-42"
        result = say_hello.apply_async(task_id="task-0001")
    assert result.successful()
    line = _one(json_logs, "adflux.test.task")
    assert line["task_id"] == "task-0001"
    assert line["task_name"] == "tests.monitoring.say_hello"
    assert line["request_id"] == "req-42"
    assert logs.current_task_context() is None  # cleared after the task


def test_published_tasks_carry_the_request_id_header(app):
    headers: dict[str, str] = {}
    with app.test_request_context("/"):
        g.request_id = "req-77"
        logs._on_before_task_publish(headers=headers)
    assert headers == {logs.TASK_REQUEST_ID_HEADER: "req-77"}


def test_development_lines_are_readable_text(app, client):
    capture = Capture(logs.TextFormatter())
    access = logging.getLogger("adflux.access")
    access.addHandler(capture.handler)
    access.setLevel(logging.INFO)
    try:
        client.get("/api/v1/jobs", headers={"X-Request-ID": "0123456789abcdef"})
    finally:
        access.removeHandler(capture.handler)
        access.setLevel(logging.NOTSET)
    line = capture.text.strip()
    assert "INFO    adflux.access [req 01234567]: GET /api/v1/jobs 200" in line
    assert "route=/api/v1/jobs" in line and not line.startswith("{")


def test_production_uses_json_and_development_text(tmp_path):
    assert Settings.from_env({}, env="production").effective_log_format == "json"
    assert Settings.from_env({}, env="development").effective_log_format == "text"


def test_configure_logging_installs_one_filtered_handler(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        settings = Settings.from_env({}, env="production", secret_key="s" * 32, instance_path=str(tmp_path))
        logs.configure_logging(settings)
        logs.configure_logging(settings)
        ours = [h for h in root.handlers if getattr(h, "_adflux", False)]
        assert len(ours) == 1
        assert isinstance(ours[0].formatter, logs.JsonFormatter)
        assert {type(f) for f in ours[0].filters} == {logs.RequestContextFilter, logs.RedactionFilter}
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_app_factory_accepts_a_flask_app(app):
    assert isinstance(app, Flask)
