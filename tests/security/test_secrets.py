"""Platform credentials: encrypted at rest, masked in every response and log, keys rotatable."""

from __future__ import annotations

import json
import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import AuditEvent, PlatformAccount
from adflux.monitoring import logs
from adflux.services import platform_accounts, secrets
from adflux.settings import Settings, SettingsError

META_TOKEN = "EAAGm0PX4ZCpsBAKZCZBq9secretmetatoken1234567890"
DEV_TOKEN = "dev-token-abcdefghijklmnop"


def _account(**overrides):
    data = {
        "platform": "meta",
        "name": "Meta Colombia",
        "external_account_id": "act_123456789",
        "credentials": {"access_token": META_TOKEN, "app_secret": "s3cr3t-app-secret-value"},
        "is_sandbox": False,
    }
    data.update(overrides)
    return data


def test_credentials_are_encrypted_at_rest_and_only_masked_in_responses(client, app):
    created = client.post("/api/v1/platform-accounts", json=_account())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert "credentials" not in body and body["credentials_status"] == "set"
    assert body["credentials_masked"] == {"access_token": "EAAG…90", "app_secret": "s3cr…ue"}

    for response in (
        client.get("/api/v1/platform-accounts"),
        client.get(f"/api/v1/platform-accounts/{body['id']}"),
    ):
        text = response.get_data(as_text=True)
        assert META_TOKEN not in text and "s3cr3t-app-secret-value" not in text

    with app.app_context():
        stored = db.session.get(PlatformAccount, body["id"]).credentials_encrypted
    assert META_TOKEN not in stored and "access_token" not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token


def test_the_platform_layer_gets_the_decrypted_credentials(client, app):
    client.post("/api/v1/platform-accounts", json=_account())
    from adflux.services.platform_access import account_for

    with app.app_context():
        config, account_id = account_for("meta")
    assert account_id is not None and config.credentials["access_token"] == META_TOKEN


def test_updating_credentials_replaces_them_and_is_audited_without_values(client, app):
    account = client.post("/api/v1/platform-accounts", json=_account()).get_json()
    updated = client.patch(
        f"/api/v1/platform-accounts/{account['id']}",
        json={"credentials": {"access_token": "EAAnewtokenvalue0987654321"}, "priority": 5},
    )
    assert updated.status_code == 200
    assert updated.get_json()["credentials_masked"] == {"access_token": "EAAn…21"}
    assert client.delete(f"/api/v1/platform-accounts/{account['id']}").status_code == 204

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "platform_account.create",
        "platform_account.update",
        "platform_account.delete",
    ]
    dump = json.dumps([[e.before, e.after] for e in events])
    for secret in (META_TOKEN, "s3cr3t-app-secret-value", "EAAnewtokenvalue0987654321"):
        assert secret not in dump
    update = events[1]
    assert update.before["credential_keys"] == ["access_token", "app_secret"]
    assert update.after["credential_keys"] == ["access_token"] and update.after["credentials_changed"]
    assert update.before["priority"] == 0 and update.after["priority"] == 5


def test_duplicate_accounts_and_bad_input_are_refused(client):
    assert client.post("/api/v1/platform-accounts", json=_account()).status_code == 201
    assert client.post("/api/v1/platform-accounts", json=_account()).status_code == 409
    bad = [
        _account(platform="myspace"),
        _account(base_url="file:///etc/passwd"),
        _account(credentials={"access_token": 12}),
        _account(credentials={"bad key!": "x"}),
    ]
    for data in bad:
        assert client.post("/api/v1/platform-accounts", json=data).status_code == 422, data


def test_a_fernet_key_is_used_as_is_and_a_passphrase_is_derived():
    key = Fernet.generate_key().decode()
    assert secrets.derive_fernet_key(key) == key.encode()
    derived = secrets.derive_fernet_key("una frase de paso suficientemente larga")
    assert derived != key.encode() and len(derived) == 44
    assert derived == secrets.derive_fernet_key("una frase de paso suficientemente larga")


def test_keys_can_be_rotated_without_losing_credentials(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = Settings.from_env({}, encryption_key=old, instance_path=str(tmp_path))
    blob = secrets.encrypt_credentials({"access_token": META_TOKEN}, settings=before)

    both = before.replace(encryption_key=f"{new},{old}")
    assert secrets.decrypt_credentials(blob, settings=both) == {"access_token": META_TOKEN}
    rotated = secrets.reencrypt(blob, settings=both)

    only_new = before.replace(encryption_key=new)
    assert secrets.decrypt_credentials(rotated, settings=only_new) == {"access_token": META_TOKEN}
    with pytest.raises(secrets.CredentialsUnreadable):
        secrets.decrypt_credentials(blob, settings=only_new)


def test_credentials_under_a_lost_key_are_reported_not_crashed_on(client, app):
    account = client.post("/api/v1/platform-accounts", json=_account()).get_json()
    other = Settings.from_env({}, encryption_key=Fernet.generate_key().decode())
    with app.app_context():
        row = db.session.get(PlatformAccount, account["id"])
        row.credentials_encrypted = secrets.encrypt_credentials({"access_token": "x" * 20}, settings=other)
        db.session.commit()
    shown = client.get(f"/api/v1/platform-accounts/{account['id']}").get_json()
    assert shown["credentials_status"] == "unreadable" and shown["credentials_masked"] == {}
    fixed = client.patch(
        f"/api/v1/platform-accounts/{account['id']}", json={"credentials": {"access_token": META_TOKEN}}
    )
    assert fixed.get_json()["credentials_status"] == "set"


@pytest.mark.parametrize(
    ("value", "masked"),
    [("abcd1234wxyz", "abcd…yz"), (META_TOKEN, "EAAG…90"), ("short", "…"), ("", "…"), (None, "…")],
)
def test_mask_secret_shows_only_a_recognisable_fragment(value, masked):
    assert secrets.mask_secret(value) == masked


def test_production_refuses_to_start_without_an_encryption_key(tmp_path):
    base = {"env": "production", "secret_key": "s" * 48, "instance_path": str(tmp_path)}
    with pytest.raises(SettingsError, match="ADFLUX_ENCRYPTION_KEY"):
        create_app(Settings.from_env({}, **base))
    with pytest.raises(SettingsError, match="ADFLUX_ENCRYPTION_KEY"):
        create_app(Settings.from_env({}, encryption_key="too-short", **base))
    assert create_app(Settings.from_env({}, encryption_key=Fernet.generate_key().decode(), **base))


def test_logs_never_show_tokens_credentials_or_emails():
    record = logging.LogRecord(
        "adflux.test",
        logging.WARNING,
        __file__,
        1,
        "user %s sent %s with access_token=%s",
        ("ana@portal.co", "Authorization: Bearer adf_1a2b3c4d_QmFzZTY0c2VjcmV0dmFsdWU", META_TOKEN),
        None,
    )
    record.credentials = {"access_token": META_TOKEN, "developer_token": DEV_TOKEN}
    logs.RedactionFilter().filter(record)
    text = record.getMessage() + repr(record.credentials)
    for secret in ("ana@portal.co", "QmFzZTY0c2VjcmV0dmFsdWU", META_TOKEN, DEV_TOKEN):
        assert secret not in text


def test_accounts_serialise_only_known_fields(app):
    # The one place that turns an account into JSON must not learn to dump the encrypted column.
    from adflux.schemas.accounts import PlatformAccountSchema

    fields = set(PlatformAccountSchema().dump_fields)
    assert "credentials_encrypted" not in fields and "credentials" not in fields
    assert (
        platform_accounts.AUDITED_FIELDS and "credentials_encrypted" not in platform_accounts.AUDITED_FIELDS
    )
