"""Platform accounts carry each platform's identifiers, validated on save, and "test connection"
reads the account on the platform (the sandbox, over loopback) and says what is wrong in Spanish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.services.platform_access import account_for

SNAP_ORG = "4c0d7e2b-0000-4000-8000-000000000002"
COMPLETE = {
    "meta": {"page_id": "100000000000001", "pixel_id": "555666777888", "instagram_actor_id": "1789000111"},
    "google": {"login_customer_id": "111-222-3333"},
    "tiktok": {"identity_id": "6f1e2d3c-identity", "identity_type": "customized_user"},
    "snapchat": {"organization_id": SNAP_ORG, "brand_name": "Empleos Andinos"},
    "x": {"as_user_id": "1500000000000000001", "funding_instrument_id": "lygyi"},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    yield server
    server.stop()


def _account(platform: str, base_url: str, **overrides: Any) -> dict[str, Any]:
    sandbox = SANDBOX_ACCOUNTS[platform]
    data = {
        "platform": platform,
        "name": f"{platform} Colombia",
        "external_account_id": sandbox["account_id"],
        "base_url": base_url,
        "credentials": dict(sandbox["credentials"]),
        "identifiers": COMPLETE[platform],
        "is_sandbox": True,
    }
    data.update(overrides)
    return data


def _create(client: Any, data: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/api/v1/platform-accounts", json=data)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


@pytest.mark.parametrize("platform", sorted(COMPLETE))
def test_a_complete_account_connects_and_reads_its_state_currency_and_zone(client, sandbox, platform):
    body = _create(client, _account(platform, sandbox.base_url))
    answer = client.post(f"/api/v1/platform-accounts/{body['id']}/test")
    assert answer.status_code == 200
    result = answer.get_json()
    assert result["ok"] is True, result
    assert (result["reachable"], result["auth_ok"], result["account_found"]) == (True, True, True)
    assert (result["status"], result["status_label"]) == ("active", "activa")
    assert (result["currency"], result["timezone"]) == ("COP", "America/Bogota")
    assert result["problems"] == [] and result["missing"] == []
    assert result["summary"].startswith("La conexión con ") and "funciona" in result["summary"]


def test_identifiers_are_cleaned_on_save_and_reach_the_adapter(client, app, sandbox):
    body = _create(client, _account("google", sandbox.base_url, external_account_id="123-456-7890"))
    assert body["external_account_id"] == "1234567890"
    assert body["identifiers"] == {"login_customer_id": "1112223333"}
    meta = _create(client, _account("meta", sandbox.base_url, external_account_id="987654321"))
    assert meta["external_account_id"] == "act_987654321"
    with app.app_context():
        config, _ = account_for("meta")
    assert config.extra == COMPLETE["meta"]
    # A given key replaces, an empty value removes, the others stay.
    changed = client.patch(
        f"/api/v1/platform-accounts/{meta['id']}", json={"identifiers": {"pixel_id": "", "page_id": "12345"}}
    ).get_json()
    assert changed["identifiers"] == {"page_id": "12345", "instagram_actor_id": "1789000111"}


@pytest.mark.parametrize(
    ("platform", "change", "field", "words"),
    [
        ("meta", {"external_account_id": "acct-12"}, "external_account_id", "act_ seguido de dígitos"),
        ("google", {"external_account_id": "12345"}, "external_account_id", "10 dígitos"),
        ("snapchat", {"external_account_id": "not-a-uuid"}, "external_account_id", "UUID"),
        ("meta", {"identifiers": {"page_id": "mi-pagina"}}, "identifiers", "solo dígitos"),
        ("meta", {"identifiers": {"customer_id": "1"}}, "identifiers", "no tienen ese identificador"),
        ("tiktok", {"identifiers": {"identity_type": "PERSON"}}, "identifiers", "CUSTOMIZED_USER"),
    ],
)
def test_bad_ids_are_a_422_that_names_the_field_in_spanish(client, sandbox, platform, change, field, words):
    answer = client.post("/api/v1/platform-accounts", json=_account(platform, sandbox.base_url, **change))
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert field in body["errors"]
    assert words in str(body["errors"][field]), body


def test_a_refused_token_and_missing_identifiers_are_said_in_plain_words(client, sandbox):
    body = _create(client, _account("meta", sandbox.base_url, identifiers={}))
    token = SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"]
    sandbox.state.expired_tokens["meta"].add(token)
    try:
        result = client.post(f"/api/v1/platform-accounts/{body['id']}/test").get_json()
    finally:
        sandbox.state.expired_tokens["meta"].discard(token)
    assert result["ok"] is False and result["reachable"] is True and result["auth_ok"] is False
    assert result["missing"] == ["ID de la página de Facebook"]
    assert result["summary"].startswith("Conexión con Meta: La plataforma rechazó las credenciales")
    assert any("Falta antes de publicar: ID de la página de Facebook" in p for p in result["problems"])


def test_an_unreachable_platform_and_missing_credentials(client):
    body = _create(
        client,
        _account("google", "http://127.0.0.1:9", credentials={"access_token": "t"}, identifiers={}),
    )
    result = client.post(f"/api/v1/platform-accounts/{body['id']}/test").get_json()
    assert result["ok"] is False and result["reachable"] is False and result["auth_ok"] is None
    assert "No se pudo contactar la plataforma en http://127.0.0.1:9" in result["summary"]
    assert result["missing"] == ["credencial developer_token"]


def test_test_connection_of_an_unknown_account_is_a_404(client):
    answer = client.post("/api/v1/platform-accounts/999999/test")
    assert answer.status_code == 404 and answer.is_json
