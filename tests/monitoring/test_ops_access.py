"""/metrics and /readyz behind a token or allowed addresses when configured; one metrics folder per server."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from adflux.app import create_app

REPO = Path(__file__).resolve().parents[2]


def _app(settings, **changes):
    return create_app(settings.replace(**changes)).test_client()


def test_by_default_both_are_open_to_probes(anon_client):
    assert anon_client.get("/readyz").status_code in (200, 503)
    assert anon_client.get("/metrics").status_code == 200


def test_readyz_token_is_required_when_configured(app, settings):
    client = _app(settings, readyz_token="probe-secret")
    assert client.get("/readyz").status_code == 401
    assert client.get("/readyz", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/readyz", headers={"Authorization": "Bearer probe-secret"}).status_code in (200, 503)
    assert client.get("/healthz").status_code == 200  # liveness says nothing: stays open


@pytest.mark.parametrize("path", ["/metrics", "/readyz"])
def test_allowed_addresses_let_in_only_those_networks(app, settings, path):
    client = _app(settings, ops_allowed_addresses="10.0.0.0/8, 127.0.0.1")
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code in (200, 503)
    assert client.get(path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code in (200, 503)
    assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403


def test_a_token_also_works_from_an_address_outside_the_list(app, settings):
    client = _app(settings, ops_allowed_addresses="10.0.0.0/8", metrics_token="scrape-me")
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 401
    ok = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200


def test_a_malformed_address_list_fails_at_start(settings):
    from adflux.settings import SettingsError

    with pytest.raises(SettingsError, match="OPS_ALLOWED_ADDRESSES"):
        settings.replace(ops_allowed_addresses="10.0.0.0/8,not-an-ip").validate()


# ---- one Prometheus folder per server ---------------------------------------------------------


def _conf(monkeypatch, **env: str) -> dict:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-below")  # restored after the test
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_each_server_gets_its_own_metrics_folder_and_leaves_others_alone(tmp_path, monkeypatch):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        neighbour = tmp_path / f"adflux-prometheus-{other.pid}"  # another server on the host
        neighbour.mkdir()
        (neighbour / f"counter_{other.pid}.db").write_bytes(b"theirs")
        conf = _conf(monkeypatch, ADFLUX_METRICS_DIR=str(tmp_path))
        own = Path(conf["OWN_DIR"])
        assert own != neighbour and own.parent == tmp_path
        conf["on_starting"](None)
        assert own.is_dir() and (neighbour / f"counter_{other.pid}.db").read_bytes() == b"theirs"
        conf["on_exit"](None)
        assert not own.exists() and neighbour.exists()
    finally:
        other.kill()
        other.wait()


def test_a_shared_folder_a_live_server_writes_to_is_refused_not_wiped(tmp_path, monkeypatch):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        shared = tmp_path / "prom"
        shared.mkdir()
        (shared / f"counter_{other.pid}.db").write_bytes(b"theirs")
        conf = _conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(shared))
        with pytest.raises(RuntimeError, match="in use by running processes"):
            conf["on_starting"](None)
        assert (shared / f"counter_{other.pid}.db").read_bytes() == b"theirs"
        conf["on_exit"](None)
        assert shared.exists()  # the operator's folder is never removed
    finally:
        other.kill()
        other.wait()
