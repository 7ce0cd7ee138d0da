"""API tokens and users: shown once, stored hashed, revocable, expiring; roles enforced."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import ApiToken, AuditEvent, User
from adflux.models.base import utcnow
from conftest import issue_test_token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(client, anon_client, app):
    me = client.get("/api/v1/me").get_json()
    created = client.post("/api/v1/tokens", json={"name": "laptop", "user_id": me["id"]})
    assert created.status_code == 201
    body = created.get_json()
    secret = body["token"]
    assert secret.startswith("adf_") and len(secret) > 40
    assert body["masked"].endswith("…") and secret not in body["masked"]

    with app.app_context():
        row = db.session.get(ApiToken, body["id"])
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {row.token_hash, row.prefix, row.name}
        assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)

    listed = client.get("/api/v1/tokens").get_json()["items"]
    assert secret not in str(listed)
    assert anon_client.get("/api/v1/me", headers=_bearer(secret)).get_json()["email"] == me["email"]


def test_me_tells_who_is_calling_and_with_which_role(client_as):
    viewer = client_as("viewer", email="lectora@empresa.co")
    body = viewer.get("/api/v1/me").get_json()
    assert body["email"] == "lectora@empresa.co" and body["role"] == "viewer" and body["auth"] == "token"


def test_no_token_is_401_with_a_bearer_challenge(anon_client):
    response = anon_client.get("/api/v1/jobs")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "unauthorized"


def test_malformed_or_unknown_tokens_are_401(anon_client):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer adf_00000000_nope", "Bearer not-ours", "Token x"):
        response = anon_client.get("/api/v1/jobs", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_token_stops_working_at_once(client, anon_client, app):
    user_id, token = issue_test_token(app, "manager")
    assert anon_client.get("/api/v1/jobs", headers=_bearer(token)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id))
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    refused = anon_client.get("/api/v1/jobs", headers=_bearer(token))
    assert refused.status_code == 401 and "revocado" in refused.get_json()["message"]


def test_an_expired_token_is_refused(anon_client, app):
    user_id, token = issue_test_token(app, "viewer")
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user_id))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = anon_client.get("/api/v1/jobs", headers=_bearer(token))
    assert response.status_code == 401 and "venció" in response.get_json()["message"]


def test_deactivating_a_user_disables_their_tokens(client, anon_client, app):
    user_id, token = issue_test_token(app, "manager")
    assert client.patch(f"/api/v1/users/{user_id}", json={"active": False}).status_code == 200
    assert anon_client.get("/api/v1/jobs", headers=_bearer(token)).status_code == 401


def test_token_use_is_recorded_without_a_write_per_request(anon_client, app):
    user_id, token = issue_test_token(app, "viewer")
    anon_client.get("/api/v1/jobs", headers=_bearer(token))
    with app.app_context():
        first = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user_id))
    anon_client.get("/api/v1/jobs", headers=_bearer(token))
    with app.app_context():
        second = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user_id))
    assert first is not None and second == first


def test_people_manage_only_their_own_tokens(client_as, app):
    other_id, _ = issue_test_token(app, "viewer")
    viewer = client_as("viewer")
    me = viewer.get("/api/v1/me").get_json()

    mine = viewer.post("/api/v1/tokens", json={"name": "script", "expires_in_days": 7})
    assert mine.status_code == 201 and mine.get_json()["user_id"] == me["id"]
    assert viewer.post("/api/v1/tokens", json={"name": "x", "user_id": other_id}).status_code == 403

    listed = viewer.get("/api/v1/tokens").get_json()
    assert {t["user_id"] for t in listed["items"]} == {me["id"]}
    with app.app_context():
        others = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == other_id))
    assert viewer.delete(f"/api/v1/tokens/{others}").status_code == 404
    assert viewer.delete(f"/api/v1/tokens/{mine.get_json()['id']}").status_code == 204


def test_token_expiry_is_bounded(client):
    me = client.get("/api/v1/me").get_json()
    for days in (0, 731):
        response = client.post(
            "/api/v1/tokens", json={"name": "x", "expires_in_days": days, "user_id": me["id"]}
        )
        assert response.status_code == 422


def test_admins_create_users_with_hashed_passwords_never_returned(client, app):
    response = client.post(
        "/api/v1/users",
        json={
            "email": "Gestora@Empresa.CO",
            "name": "Gestora",
            "role": "manager",
            "password": "una clave larga",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["email"] == "gestora@empresa.co" and body["role"] == "manager" and body["has_password"]
    assert "password" not in body and "password_hash" not in body
    with app.app_context():
        stored = db.session.get(User, body["id"]).password_hash
    assert stored.startswith(("scrypt:", "pbkdf2:")) and "una clave larga" not in stored

    duplicate = client.post("/api/v1/users", json={"email": "gestora@empresa.co"})
    assert duplicate.status_code == 409


def test_short_passwords_and_unknown_roles_are_422(client):
    assert client.post("/api/v1/users", json={"email": "a@b.co", "password": "corta"}).status_code == 422
    assert client.post("/api/v1/users", json={"email": "a@b.co", "role": "root"}).status_code == 422


def test_admins_list_filter_and_change_roles(client, app):
    user_id, _ = issue_test_token(app, "viewer", email="ana@empresa.co")
    page = client.get("/api/v1/users", query_string={"role": "viewer"}).get_json()
    assert [u["email"] for u in page["items"]] == ["ana@empresa.co"]
    updated = client.patch(f"/api/v1/users/{user_id}", json={"role": "manager"}).get_json()
    assert updated["role"] == "manager"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client_as, app):
    admin = client_as("admin")
    me = admin.get("/api/v1/me").get_json()
    assert admin.patch(f"/api/v1/users/{me['id']}", json={"role": "viewer"}).status_code == 409
    assert admin.patch(f"/api/v1/users/{me['id']}", json={"active": False}).status_code == 409


def test_user_and_token_changes_are_audited_without_secrets(client, app):
    created = client.post(
        "/api/v1/users", json={"email": "luis@empresa.co", "role": "viewer", "password": "otra clave larga"}
    ).get_json()
    client.patch(f"/api/v1/users/{created['id']}", json={"role": "manager", "password": "clave nueva larga"})
    token = client.post("/api/v1/tokens", json={"name": "ci", "user_id": created["id"]}).get_json()
    client.delete(f"/api/v1/tokens/{token['id']}")

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [e.action for e in events]
        dump = repr([(e.before, e.after) for e in events])
        actor = events[0].actor
    assert actions == ["user.create", "user.update", "token.create", "token.revoke"]
    assert actor.endswith("@tests.adflux.local")
    for secret in ("otra clave larga", "clave nueva larga", token["token"], "scrypt:"):
        assert secret not in dump
    assert "'role': 'viewer'" in dump and "'role': 'manager'" in dump
