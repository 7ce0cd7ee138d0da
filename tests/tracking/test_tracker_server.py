"""The tracking server as deployed: deploy/tracker.env selects gthread workers with keep-alive in
gunicorn.conf.py, and the systemd unit and compose service read that file (the bench does too)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _tracker_env() -> dict[str, str]:
    lines = (REPO / "deploy" / "tracker.env").read_text("utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str]) -> dict[str, object]:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prom"))
    for name in ("GUNICORN_PROFILE", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_the_tracker_profile_is_gthread_with_keep_alive_and_the_web_stays_sync(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tracker = _conf(monkeypatch, tmp_path, _tracker_env())
    assert (tracker["worker_class"], tracker["threads"], tracker["keepalive"]) == ("gthread", 16, 75)
    assert tracker["workers"] == __import__("multiprocessing").cpu_count()
    web = _conf(monkeypatch, tmp_path, {})
    assert (web["worker_class"], web["threads"], web["keepalive"]) == ("sync", 1, 5)


def test_the_unit_and_compose_service_read_the_tracker_settings() -> None:
    unit = (REPO / "deploy" / "systemd" / "adflux-tracker.service").read_text("utf-8")
    assert "EnvironmentFile=/opt/adflux/deploy/tracker.env" in unit
    compose = yaml.safe_load((REPO / "deploy" / "docker" / "compose.yml").read_text("utf-8"))
    assert "../tracker.env" in compose["services"]["tracker"]["env_file"]
