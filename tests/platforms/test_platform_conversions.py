"""Applications sent to each platform's conversions API: accepted by the sandbox, counted once per
event id however often they are sent, and checked against the platforms' own definitions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adflux.constants import PLATFORMS, SANDBOX_ACCOUNTS
from adflux.platforms import PlatformAdapter
from adflux.platforms.conversions import Conversion, send_conversions
from adflux.platforms.errors import FatalError
from adflux.sandbox import SandboxServer

CLICK_IDS = {"meta": "IwAR0abc", "google": "Cj0KCQjw", "tiktok": "E.C.P.abc", "snapchat": "sc-1", "x": "tw-9"}


def _conversions(platform: str, count: int, *, ago: timedelta = timedelta(hours=2)) -> list[Conversion]:
    now = datetime.now(UTC).replace(microsecond=123000)
    return [
        Conversion(
            event_id=f"app-{platform}-{n}",
            occurred_at=now - ago,
            click_id=f"{CLICK_IDS[platform]}{n}",
            clicked_at=now - ago - timedelta(minutes=5),
            email_hash=hashlib.sha256(f"c{n}@example.co".encode()).hexdigest(),
            phone_hash=hashlib.sha256(f"57300{n}".encode()).hexdigest() if n % 2 else None,
            job_reference="JOB-1",
        )
        for n in range(count)
    ]


def _counts(sandbox: SandboxServer) -> dict[str, dict[str, int]]:
    return httpx.get(f"{sandbox.base_url}/__sandbox/conversions").json()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_conversions_reach_each_platform_once_per_event_id(
    platform: str, adapter_for: Callable[..., PlatformAdapter], sandbox: SandboxServer
) -> None:
    extra = {"report_poll_seconds": 0.01, **SANDBOX_ACCOUNTS[platform].get("extra", {})}
    adapter = adapter_for(platform, extra=extra)
    conversions = _conversions(platform, 3)
    first = send_conversions(adapter, conversions)
    again = send_conversions(adapter, conversions[:2])  # a retried batch
    assert first.sent == [c.event_id for c in conversions] and not first.skipped
    assert again.sent == [c.event_id for c in conversions[:2]]
    assert _counts(sandbox)[platform] == {"unique": 3, "received": 5}


def test_meta_events_carry_hashed_user_data_the_click_and_event_id(
    adapter_for: Callable[..., PlatformAdapter], sandbox: SandboxServer
) -> None:
    adapter = adapter_for("meta", extra=dict(SANDBOX_ACCOUNTS["meta"]["extra"]))
    conversion = _conversions("meta", 2)[1]
    send_conversions(adapter, [conversion])
    (kept,) = sandbox.state.all("meta", "conversion")
    event = kept["event"]
    assert event["event_name"] == "SubmitApplication" and event["event_id"] == conversion.event_id
    assert event["user_data"]["em"] == [conversion.email_hash]
    assert event["user_data"]["ph"] == [conversion.phone_hash]
    assert event["user_data"]["fbc"].endswith(f".{conversion.click_id}")
    assert "c1@example.co" not in str(event)


def test_events_a_platform_would_refuse_are_skipped_not_sent(
    adapter_for: Callable[..., PlatformAdapter], sandbox: SandboxServer
) -> None:
    meta = adapter_for("meta", extra=dict(SANDBOX_ACCOUNTS["meta"]["extra"]))
    google = adapter_for("google", extra=dict(SANDBOX_ACCOUNTS["google"]["extra"]))
    old = _conversions("meta", 1, ago=timedelta(days=8))
    assert send_conversions(meta, old).skipped == {"app-meta-0": "older than 7 days"}
    no_click = [Conversion("app-g", datetime.now(UTC), None, None, email_hash="a" * 64)]
    assert send_conversions(google, no_click).skipped == {"app-g": "no gclid"}
    assert _counts(sandbox)["meta"]["received"] == 0 and _counts(sandbox)["google"]["received"] == 0


def test_an_account_without_a_pixel_cannot_send(adapter_for: Callable[..., PlatformAdapter]) -> None:
    adapter = adapter_for("tiktok", extra={})
    with pytest.raises(FatalError, match="pixel_code"):
        send_conversions(adapter, _conversions("tiktok", 1))


@pytest.mark.sends_refused_requests
@pytest.mark.parametrize("platform", ["meta", "google", "tiktok", "snapchat", "x"])
def test_the_sandbox_refuses_a_malformed_conversion(
    platform: str, adapter_for: Callable[..., PlatformAdapter], sandbox: SandboxServer
) -> None:
    adapter = adapter_for(platform, extra=dict(SANDBOX_ACCOUNTS[platform]["extra"]))
    bad = [Conversion("bad-1", datetime.now(UTC), "click-1", datetime.now(UTC), email_hash="not-a-hash")]
    if platform == "google":  # Google's upload is by click id: a malformed action name is refused
        adapter.account.extra["conversion_action_id"] = "not-a-number"
    with pytest.raises(Exception) as caught:
        send_conversions(adapter, bad)
    assert "validation" in type(caught.value).__name__.lower() or "Validation" in repr(caught.value)
    assert _counts(sandbox)[platform]["received"] == 0
