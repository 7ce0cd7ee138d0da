"""/healthz, /readyz, /api/v1/status and `adflux status`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adflux.app import create_app
from adflux.extensions import db
from adflux.platforms.types import HealthReport
from adflux.services import health
from adflux.settings import Settings
from ops_data import make_model


class FakeAdapter:
    calls = 0

    def __init__(self, platform: str, ok: bool = True) -> None:
        self.platform, self.ok = platform, ok

    def health(self) -> HealthReport:
        FakeAdapter.calls += 1
        return HealthReport(
            self.platform,
            ok=self.ok,
            token_valid=self.ok,
            api_version="v1",
            token_expires_at=datetime.now(UTC) + timedelta(days=30),
            throttle_headroom=0.8,
            detail="" if self.ok else "token expired",
        )

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_platforms(monkeypatch):
    """Platforms answer through a fake adapter (the real ones are tested by the platform layer)."""
    health.clear_platform_cache()
    FakeAdapter.calls = 0
    # Patched in health, not in platform_access: modules imported meanwhile keep the real one.
    monkeypatch.setattr(health, "platform_adapter", lambda platform, config: (FakeAdapter(platform), None))
    yield
    health.clear_platform_cache()


def _check(body: dict, name: str) -> dict:
    return next(c for c in body["checks"] if c["name"] == name)


def test_healthz_answers_without_touching_anything(tmp_path):
    settings = Settings.from_env(
        {}, env="testing", instance_path=str(tmp_path), database_url="postgresql://x@127.0.0.1:1/none"
    )
    response = create_app(settings).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_readyz_is_200_with_each_dependency_and_its_latency(anon_client):
    response = anon_client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ready"] is True and body["status"] == "ok"
    names = [c["name"] for c in body["checks"]]
    assert names[:3] == ["database", "broker", "model_store"]
    assert {"platform:meta", "platform:google", "platform:x", "platform:tiktok", "platform:snapchat"} <= set(
        names
    )
    assert all(c["latency_ms"] is not None for c in body["checks"])
    # Anonymous probes see statuses and latencies, not error details.
    assert all(set(c) == {"name", "status", "critical", "latency_ms"} for c in body["checks"])


def test_readyz_is_503_when_the_database_is_down(tmp_path):
    settings = Settings.from_env(
        {}, env="testing", instance_path=str(tmp_path), database_url="postgresql://x@127.0.0.1:1/none"
    )
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert _check(body, "database")["status"] == "fail"


def test_readyz_is_503_when_the_broker_is_down(tmp_path):
    settings = Settings.from_env(
        {},
        env="testing",
        instance_path=str(tmp_path),
        celery_broker_url="redis://127.0.0.1:1/0",
        health_timeout_seconds=0.3,
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert _check(response.get_json(), "broker")["status"] == "fail"


def test_a_failing_platform_degrades_but_does_not_fail_readiness(anon_client, monkeypatch):
    monkeypatch.setattr(
        health,
        "platform_adapter",
        lambda platform, config: (FakeAdapter(platform, ok=platform != "tiktok"), None),
    )
    response = anon_client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert _check(body, "platform:tiktok")["status"] == "fail"


def test_a_platform_without_an_adapter_is_unknown(app_ctx, monkeypatch):
    def no_adapter(platform, config):
        raise KeyError(platform)

    monkeypatch.setattr(health, "platform_adapter", no_adapter)
    checks = health.check_platforms(fresh=True)
    assert {c.status for c in checks} == {"unknown"}


def test_platform_answers_are_cached_for_probes(app_ctx):
    health.check_platforms()
    health.check_platforms()
    assert FakeAdapter.calls == 5
    health.check_platforms(fresh=True)
    assert FakeAdapter.calls == 10


def test_missing_model_artifact_is_reported(app_ctx):
    make_model(status="active")  # its artifact path does not exist
    check = health.check_model_store()
    assert check.status == "fail" and "artifact is missing" in check.detail
    assert check.critical is False


def test_status_needs_a_viewer_and_shows_everything(anon_client, client_as, app_ctx):
    assert anon_client.get("/api/v1/status").status_code == 401
    body = client_as("viewer").get("/api/v1/status").get_json()
    assert body["ready"] is True
    assert body["workers"] is None  # embedded mode: no workers needed
    assert body["alerts"] == [] and body["last_backup"] is None
    meta = _check(body, "platform:meta")
    assert meta["data"]["api_version"] == "v1" and meta["data"]["throttle_headroom"] == 0.8


def test_cli_status_prints_a_table(cli):
    result = cli("status")
    assert result.exit_code == 0, result.output
    assert "database" in result.output and "platform:meta" in result.output
    assert "Workers: modo embebido" in result.output


def test_cli_status_json_and_exit_code_when_not_ready(cli, monkeypatch):
    result = cli("--json", "status")
    assert json.loads(result.output)["ready"] is True
    monkeypatch.setattr(
        health, "check_database", lambda: health.Check("database", "fail", True, 1.0, "connection refused")
    )
    result = cli("status", "--no-workers")
    assert result.exit_code == 1
    assert "connection refused" in result.output
