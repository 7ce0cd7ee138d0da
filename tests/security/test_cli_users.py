"""`adflux users` and `adflux tokens`: the first admin in-process, tokens for the remote CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from werkzeug.serving import make_server

from adflux.extensions import db
from adflux.models import AuditEvent, User


@pytest.fixture
def server_url(app) -> Iterator[str]:
    """The test app served over real HTTP on 127.0.0.1 (for --api-url)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_create_admin_works_on_a_database_without_users(cli, app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    result = cli(
        "users", "create-admin", "--email", "Admin@Portal.CO", "--password-stdin", input="una clave segura\n"
    )
    assert result.exit_code == 0, result.output
    assert "admin@portal.co" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.role == "admin" and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
        # Done by the local operator, and the audit trail says so.
        assert event.actor.startswith("local:") and "una clave segura" not in json.dumps(event.after)


def _users(app) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(select(User.email, User.role, User.password_hash).order_by(User.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_create_admin_prompts_for_the_password_twice(cli, app):
    assert _users(app) == []
    result = cli(
        "users", "create-admin", "--email", "a@portal.co", input="una clave segura\nuna clave segura\n"
    )
    assert result.exit_code == 0, result.output
    # Asked for it, then for its confirmation (click's confirmation_prompt), without echoing it.
    assert result.output.count("Contraseña: ") == 1
    assert result.output.count("Repita para confirmar: ") == 1
    assert result.output.index("Contraseña: ") < result.output.index("Repita para confirmar: ")
    assert "una clave segura" not in result.output
    [(email, role, password_hash)] = _users(app)
    assert (email, role) == ("a@portal.co", "admin")
    assert password_hash is not None and check_password_hash(password_hash, "una clave segura")


def test_create_admin_refuses_a_confirmation_that_differs(cli, app):
    result = cli(
        "users", "create-admin", "--email", "a@portal.co", input="una clave segura\nuna clave distinta\n"
    )
    assert result.exit_code != 0
    assert "no coinciden" in result.output
    assert _users(app) == []


def test_a_too_short_password_is_a_one_line_error(cli):
    result = cli("users", "create-admin", "--email", "a@portal.co", "--password-stdin", input="corta\n")
    assert result.exit_code == 1
    assert result.output.startswith("Error: La solicitud no es válida") and "password" in result.output


def test_users_list_set_role_and_deactivate(cli):
    cli("users", "create", "--email", "ana@portal.co", "--role", "viewer", "--no-password")
    assert cli("users", "set-role", "ana@portal.co", "manager").exit_code == 0
    listed = json.loads(cli("--json", "users", "list").output)
    assert [(u["email"], u["role"], u["active"]) for u in listed["items"]] == [
        ("ana@portal.co", "manager", True)
    ]
    assert cli("users", "deactivate", "ana@portal.co").exit_code == 0
    assert json.loads(cli("--json", "users", "list", "--inactive").output)["total"] == 1
    assert "Usuarios" in cli("users", "list").output


def test_tokens_create_list_revoke_and_use_remotely(cli, server_url):
    cli("users", "create", "--email", "ci@portal.co", "--role", "manager", "--no-password")
    created = cli("tokens", "create", "--name", "ci", "--user", "ci@portal.co", "--expires-in-days", "7")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("adf_")

    listed = cli("--json", "tokens", "list")
    items = json.loads(listed.output)["items"]
    assert len(items) == 1 and token not in listed.output and items[0]["masked"].startswith("adf_")

    remote = cli("--api-url", server_url, "--token", token, "--json", "view-jobs")
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.output)["total"] == 0

    assert cli("tokens", "revoke", str(items[0]["id"])).exit_code == 0
    refused = cli("--api-url", server_url, "--token", token, "view-jobs")
    assert refused.exit_code == 1 and refused.output.startswith("Error: Este token de API fue revocado")


def test_the_remote_cli_without_a_token_is_refused(cli, server_url):
    result = cli("--api-url", server_url, "view-jobs")
    assert result.exit_code == 1 and result.output.startswith("Error: Se requiere autenticación")


def test_a_token_made_on_the_server_is_the_only_admins_as_the_readme_shows(cli):
    nobody = cli("tokens", "create", "--name", "ci")
    assert nobody.exit_code == 1
    assert nobody.output.strip() == "Error: no hay administradores: cree uno con `adflux users create-admin`"

    cli("users", "create", "--email", "jefa@portal.co", "--role", "admin", "--no-password")
    cli("users", "create", "--email", "ana@portal.co", "--role", "manager", "--no-password")
    created = cli("--json", "tokens", "create", "--name", "ci")
    assert created.exit_code == 0, created.output
    admin = json.loads(cli("--json", "users", "list", "--role", "administrador").output)["items"][0]
    assert json.loads(created.output)["user_id"] == admin["id"]

    cli("users", "create", "--email", "otro@portal.co", "--role", "admin", "--no-password")
    ambiguous = cli("tokens", "create", "--name", "ci")
    assert ambiguous.exit_code == 1 and "--user" in ambiguous.output
    assert len(ambiguous.output.strip().splitlines()) == 1


def test_audit_lists_who_changed_what(cli):
    cli("users", "create", "--email", "ana@portal.co", "--role", "viewer", "--no-password")
    cli("users", "set-role", "ana@portal.co", "manager")
    result = cli("audit", "--entity-type", "user")
    assert result.exit_code == 0, result.output
    assert "user.update" in result.output and "user.create" in result.output and "local:" in result.output
    listed = json.loads(cli("--json", "audit", "--action", "user.*").output)
    assert [e["action"] for e in listed["items"]] == ["user.update", "user.create"]


def test_platform_accounts_are_listed_masked_and_keys_rotate(cli, app, monkeypatch):
    from cryptography.fernet import Fernet

    from adflux.services import platform_accounts

    secret = "EAAGm0PX4ZCpsBAKZCZBq9secretmetatoken1234567890"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = app.extensions["adflux_settings"]
    monkeypatch.setitem(app.extensions, "adflux_settings", settings.replace(encryption_key=old_key))
    with app.app_context():
        platform_accounts.create_account(
            data={
                "platform": "meta",
                "name": "Meta",
                "external_account_id": "act_100000001",
                "credentials": {"access_token": secret},
            }
        )
    listed = cli("platform-accounts", "list")
    assert listed.exit_code == 0 and "EAAG…90" in listed.output and secret not in listed.output

    monkeypatch.setitem(
        app.extensions, "adflux_settings", settings.replace(encryption_key=f"{new_key},{old_key}")
    )
    rotated = cli("--json", "platform-accounts", "rotate-key")
    assert json.loads(rotated.output) == {"reencrypted": 1}
    monkeypatch.setitem(app.extensions, "adflux_settings", settings.replace(encryption_key=new_key))
    with app.app_context():
        account = platform_accounts.list_accounts().items[0]
        assert platform_accounts.account_credentials(account) == {"access_token": secret}
