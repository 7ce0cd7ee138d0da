"""Admin-configured platform accounts carry the ids their conversions API needs (Meta pixel, Google
conversion action, TikTok pixel code, Snapchat pixel, X pixel and event tag): checked on save, and
used by the conversion uploader against the loopback sandbox."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.platforms.conversions import REQUIRED_SETTINGS
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.services.tracking import conversions, links
from factories import make_job
from tracking_helpers import post_signed

SNAP_ORG = "4c0d7e2b-0000-4000-8000-000000000002"
TAG = "tw-o8z6j-o8z2x"
SNAP_PIXEL = "5c2b1a0f-0e1d-4c3b-8a79-6f5e4d3c2b1a"
GIVEN = {
    "meta": {"page_id": "100000000000001", "pixel_id": "555666777888"},
    "google": {"conversion_action_id": "customers/123-456-7890/conversionActions/555000111"},
    "tiktok": {"identity_id": "6f1e2d3c-identity", "pixel_code": "cabc123def456ghi789j0"},
    "snapchat": {"organization_id": SNAP_ORG, "pixel_id": SNAP_PIXEL.upper()},
    "x": {"as_user_id": "1500000000000000001", "pixel_id": "O8Z6J", "event_tag_id": "tw-o8z6j-o8z2x"},
}
STORED = {
    "meta": {"page_id": "100000000000001", "pixel_id": "555666777888"},
    "google": {"conversion_action_id": "555000111"},
    "tiktok": {"identity_id": "6f1e2d3c-identity", "pixel_code": "CABC123DEF456GHI789J0"},
    "snapchat": {"organization_id": SNAP_ORG, "pixel_id": SNAP_PIXEL},
    "x": {"as_user_id": "1500000000000000001", "pixel_id": "o8z6j", "event_tag_id": "tw-o8z6j-o8z2x"},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    yield server
    server.stop()


def _account(platform: str, base_url: str, identifiers: dict[str, str]) -> dict[str, Any]:
    sandbox = SANDBOX_ACCOUNTS[platform]
    return {
        "platform": platform,
        "name": f"{platform} conversiones",
        "external_account_id": sandbox["account_id"],
        "base_url": base_url,
        "credentials": dict(sandbox["credentials"]),
        "identifiers": identifiers,
        "is_sandbox": True,
    }


def _post(client: FlaskClient, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/platform-accounts", json=data)


@pytest.mark.parametrize("platform", sorted(GIVEN))
def test_each_platform_saves_its_conversion_ids_in_their_shape(
    client: FlaskClient, sandbox: SandboxServer, platform: str
) -> None:
    created = client.post(
        "/api/v1/platform-accounts", json=_account(platform, sandbox.base_url, GIVEN[platform])
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["identifiers"] == STORED[platform]
    assert set(REQUIRED_SETTINGS[platform]) <= set(STORED[platform])  # what the uploader reads


@pytest.mark.parametrize(
    ("platform", "identifiers", "field", "words"),
    [
        ("google", {"conversion_action_id": "compra"}, "conversion_action_id", "conversionActions"),
        ("tiktok", {"identity_id": "i-1", "pixel_code": "C-1"}, "pixel_code", "mayúsculas"),
        ("snapchat", {"organization_id": SNAP_ORG, "pixel_id": "pixel"}, "pixel_id", "UUID"),
        ("x", {"as_user_id": "15", "event_tag_id": "o8z2x"}, "event_tag_id", "tw-"),
        (
            "x",
            {"as_user_id": "15", "pixel_id": "abcd1", "event_tag_id": "tw-o8z6j-o8z2x"},
            "event_tag_id",
            "píxel",
        ),
    ],
)
def test_a_bad_conversion_id_is_a_422_naming_the_field(
    client: FlaskClient,
    sandbox: SandboxServer,
    platform: str,
    identifiers: dict[str, str],
    field: str,
    words: str,
) -> None:
    answer = _post(client, _account(platform, sandbox.base_url, identifiers))
    assert answer.status_code == 422, answer.get_json()
    errors = answer.get_json()["errors"]["identifiers"]
    assert field in errors and words in str(errors[field]), errors


def test_the_uploader_sends_to_the_configured_google_conversion_action(
    client: FlaskClient, anon_client: FlaskClient, tracking_app: Flask, sandbox: SandboxServer
) -> None:
    created = client.post(
        "/api/v1/platform-accounts", json=_account("google", sandbox.base_url, GIVEN["google"])
    )
    assert created.status_code == 201, created.get_json()
    with tracking_app.app_context():
        job = make_job(external_ref="JOB-G-1", apply_url="https://empleos.example.co/ofertas/9")
        code = links.create_link(
            campaign_id=42, platform="google", ad_group_id=8, segment_id=1, destination_url=job.apply_url,
            job_reference=job.external_ref,
        ).code  # fmt: skip
    response = anon_client.get(f"/r/{code}?gclid=Cj0KCQ-test", headers={"User-Agent": "t"})
    click_id = parse_qs(urlsplit(response.headers["Location"]).query)["afcid"][0]
    event = {
        "event_id": "ev-google-1",
        "job_reference": "JOB-G-1",
        "occurred_at": datetime.now(UTC).isoformat(),
        "click_id": click_id,
        "email_sha256": hashlib.sha256(b"ana@example.co").hexdigest(),
        "consent": True,
    }
    assert post_signed(anon_client, event).get_json()["attributed"] == 1
    with tracking_app.app_context():
        assert conversions.send_pending().sent == {"google": 1}
    (kept,) = sandbox.state.all("google", "conversion")
    cid = SANDBOX_ACCOUNTS["google"]["account_id"]
    assert kept["event"]["conversionAction"] == f"customers/{cid}/conversionActions/555000111"
    assert kept["event"]["gclid"] == "Cj0KCQ-test"
