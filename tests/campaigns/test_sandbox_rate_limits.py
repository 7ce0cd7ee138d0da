"""Sandbox accounts take a client-side rate limit from ADFLUX_SANDBOX_RATE_LIMITS (benchmarks, demos)."""

from __future__ import annotations

import pytest
from flask import Flask

from adflux.services.platform_access import account_for, adapter_for
from adflux.settings import Settings, SettingsError, parse_rate_limits


def test_rate_limits_parse_per_platform() -> None:
    assert parse_rate_limits("") == {}
    assert parse_rate_limits(" meta=40, google = 12.5 ,") == {"meta": 40.0, "google": 12.5}


@pytest.mark.parametrize("raw", ["meta", "meta=", "meta=fast", "meta=0", "myspace=10", "=10"])
def test_malformed_rate_limits_are_refused_at_start_up(raw: str) -> None:
    with pytest.raises(SettingsError, match="ADFLUX_SANDBOX_RATE_LIMITS"):
        Settings.from_env({"ADFLUX_SANDBOX_RATE_LIMITS": raw}).validate()


def test_sandbox_accounts_get_the_configured_client_side_limit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: Settings = app.extensions["adflux_settings"]
    monkeypatch.setitem(
        app.extensions,
        "adflux_settings",
        settings.replace(sandbox_rate_limits="meta=40", platform_base_url="http://127.0.0.1:9"),
    )
    with app.app_context():
        meta, account_id = account_for("meta")
        google, _ = account_for("google")
        adapter, _ = adapter_for("meta")
        adapter.close()
    assert account_id is None  # no configured account: the sandbox one
    assert (meta.rate_limit_per_second, meta.rate_limit_burst) == (40.0, 1)
    assert google.rate_limit_per_second is None and google.rate_limit_burst is None
    assert adapter.transport.limiter is not None and adapter.transport.limiter.rate == 40.0


def test_sandbox_accounts_have_no_client_side_limit_by_default(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: Settings = app.extensions["adflux_settings"]
    monkeypatch.setitem(
        app.extensions, "adflux_settings", settings.replace(platform_base_url="http://127.0.0.1:9")
    )
    with app.app_context():
        meta, _ = account_for("meta")
    assert meta.rate_limit_per_second is None
