"""Stored platform credentials go only where they were entered for: a new base URL needs them again,
production accepts only the platforms' official https hosts, and no call follows a redirect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adflux.app import create_app
from adflux.platforms.transport import Transport

SECRET = "EAAGsecret-meta-token-that-must-not-leak-123456"
NEW_SECRET = "EAAGnew-meta-token-entered-again-654321"


class Listener:
    """An HTTP server on 127.0.0.1 recording every request's Authorization header and path."""

    def __init__(self, *, redirect_to: str | None = None) -> None:
        seen: list[tuple[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.append((self.path, self.headers.get("Authorization", "") + self.path))
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"data": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def leaked(self, secret: str) -> bool:
        return any(secret in header for _, header in self.seen)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    started: list[Listener] = []
    yield started
    for listener in started:
        listener.stop()


def _account(base_url: str, token: str = SECRET) -> dict:
    return {
        "platform": "meta",
        "name": "Meta Colombia",
        "external_account_id": "act_123456789",
        "base_url": base_url,
        "credentials": {"access_token": token},
        "is_sandbox": False,
    }


def test_moving_an_account_without_its_secrets_is_refused_and_nothing_reaches_the_new_host(client, listeners):
    original, attacker = Listener(), Listener()
    listeners += [original, attacker]
    created = client.post("/api/v1/platform-accounts", json=_account(original.url))
    assert created.status_code == 201, created.get_json()
    account_id = created.get_json()["id"]

    moved = client.patch(f"/api/v1/platform-accounts/{account_id}", json={"base_url": attacker.url})
    assert moved.status_code == 400
    assert moved.get_json()["code"] == "credentials_required" and "credentials" in moved.get_json()["errors"]
    client.get("/api/v1/status?fresh=true")
    assert attacker.seen == []  # not one request, let alone the secret
    assert client.get(f"/api/v1/platform-accounts/{account_id}").get_json()["base_url"] == original.url

    # With the credentials entered again, the new host gets those, never the stored ones.
    moved = client.patch(
        f"/api/v1/platform-accounts/{account_id}",
        json={"base_url": attacker.url, "credentials": {"access_token": NEW_SECRET}},
    )
    assert moved.status_code == 200, moved.get_json()
    client.get("/api/v1/status?fresh=true")
    assert attacker.leaked(NEW_SECRET) and not attacker.leaked(SECRET)


def test_other_edits_keep_the_stored_credentials(client, listeners):
    original = Listener()
    listeners.append(original)
    account_id = client.post("/api/v1/platform-accounts", json=_account(original.url)).get_json()["id"]
    renamed = client.patch(
        f"/api/v1/platform-accounts/{account_id}", json={"name": "Meta CO", "base_url": original.url}
    )
    assert renamed.status_code == 200 and renamed.get_json()["credentials_status"] == "set"


@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("https://graph.facebook.com", True),
        ("http://graph.facebook.com", False),
        ("https://graph.facebook.com.evil.example", False),
        ("https://169.254.169.254", False),
        ("http://127.0.0.1:8999", False),
        ("https://googleads.googleapis.com", False),  # Google's host for a Meta account
    ],
)
def test_production_accepts_only_the_platforms_official_https_hosts(settings, base_url, allowed, app):
    from adflux.services import platform_accounts
    from adflux.services.errors import ValidationFailed

    production = create_app(settings.replace(env="production", secret_key="x" * 40, encryption_key="k" * 40))
    with production.app_context():
        if allowed:
            platform_accounts.check_base_url("meta", base_url)
        else:
            with pytest.raises(ValidationFailed):
                platform_accounts.check_base_url("meta", base_url)


def test_outside_production_loopback_is_accepted_but_other_hosts_are_not(client):
    for base_url, status in (
        ("http://127.0.0.1:9", 201),
        ("http://10.0.0.5", 422),
        ("http://example.org", 422),
    ):
        response = client.post(
            "/api/v1/platform-accounts",
            json={**_account(base_url), "external_account_id": f"act_{status}{len(base_url):04d}"},
        )
        assert response.status_code == status, (base_url, response.get_json())


def test_platform_calls_never_follow_a_redirect_to_another_host(listeners):
    elsewhere = Listener()
    bouncer = Listener(redirect_to=elsewhere.url)
    listeners += [elsewhere, bouncer]
    transport = Transport(
        platform="meta",
        base_url=bouncer.url,
        classify=lambda response, now: None,
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    try:
        response = transport.request("GET", "/v21.0/me", operation="health")
    finally:
        transport.close()
    assert response.status_code == 302
    assert bouncer.leaked(SECRET) and elsewhere.seen == []


def test_an_old_row_pointing_elsewhere_gets_no_credentials_in_production(settings, listeners, app):
    """A row saved before the host rule (or edited in the database) is refused at use, not sent to."""
    from adflux.extensions import db
    from adflux.models import PlatformAccount
    from adflux.services import platform_access, secrets
    from adflux.services.errors import ServiceUnavailable

    listener = Listener()
    listeners.append(listener)
    production = create_app(settings.replace(env="production", secret_key="x" * 40, encryption_key="k" * 40))
    with production.app_context():
        db.session.add(
            PlatformAccount(
                platform="meta",
                name="Meta (old row)",
                external_account_id="act_old",
                base_url=listener.url,
                credentials_encrypted=secrets.encrypt_credentials({"access_token": SECRET}),
                is_sandbox=False,
                active=True,
                priority=0,
            )
        )
        db.session.commit()
        with pytest.raises(ServiceUnavailable, match="no a la API oficial de meta"):
            platform_access.account_for("meta")
        db.session.remove()
    assert listener.seen == []
