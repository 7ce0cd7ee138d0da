"""Admin pages through the Flask test client: users (invite, role, deactivate), API tokens (shown
once, revoked) and platform accounts (created, deactivated, credentials never shown)."""

from __future__ import annotations

import re

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import ApiToken, PlatformAccount, User
from adflux.services import auth as auth_service
from web.conftest import csrf_token


def test_admin_pages_are_for_admins_only(manager):
    for path in ("/admin/users", "/admin/tokens", "/admin/accounts"):
        assert manager.get(path).status_code == 403


def test_an_admin_invites_a_person_who_can_then_sign_in(app, web_as):
    admin = web_as("admin")
    token = csrf_token(admin, "/admin/users")
    response = admin.post(
        "/admin/users",
        data={"csrf_token": token, "email": "Nueva@Portal.test", "name": "Ana", "role": "manager"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="invited"' in html
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nueva@portal.test"))
        assert user.role == "manager" and user.active
    # The first password really works, through the real sign-in form.
    fresh = app.test_client()
    signed = fresh.post(
        "/login",
        data={"email": "nueva@portal.test", "password": password, "csrf_token": csrf_token(fresh)},
    )
    assert signed.status_code == 302
    # The secret is not kept anywhere the list shows it again.
    assert password not in admin.get("/admin/users").get_data(as_text=True)
    # Inviting the same e-mail twice is explained, not a crash.
    again = admin.post(
        "/admin/users", data={"csrf_token": token, "email": "nueva@portal.test", "role": "viewer"}
    )
    assert "Ya existe un usuario con ese correo" in admin.get(again.headers["Location"]).get_data(
        as_text=True
    )


def test_an_admin_changes_a_role_and_deactivates_but_not_the_last_admin(app, web_as):
    admin = web_as("admin")
    with app.app_context():
        person = auth_service.create_user(email="p@portal.test", role="viewer")
        person_id = person.id
        admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    token = csrf_token(admin, "/admin/users")
    admin.post(f"/admin/users/{person_id}", data={"csrf_token": token, "role": "manager"})
    admin.post(f"/admin/users/{person_id}", data={"csrf_token": token, "active": "0"})
    with app.app_context():
        person = db.session.get(User, person_id)
        assert person.role == "manager" and not person.active
    response = admin.post(f"/admin/users/{admin_id}", data={"csrf_token": token, "role": "viewer"})
    assert "último administrador activo" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        admin.post(f"/admin/users/{person_id}", data={"csrf_token": token, "role": "boss"}).status_code == 400
    )
    assert admin.post("/admin/users/424242", data={"csrf_token": token, "active": "0"}).status_code == 404


def test_a_token_is_shown_once_works_and_is_revoked(app, web_as):
    admin = web_as("admin")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.role == "admin"))
    token = csrf_token(admin, "/admin/tokens")
    response = admin.post(
        "/admin/tokens",
        data={
            "csrf_token": token,
            "user_id": str(user_id),
            "name": "script nocturno",
            "expires_in_days": "30",
        },
    )
    html = response.get_data(as_text=True)
    secret = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    api = app.test_client()
    assert api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert "script nocturno" in listing and secret not in listing
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "script nocturno"))
    admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    bad = admin.post("/admin/tokens", data={"csrf_token": token, "user_id": str(user_id), "name": "x"})
    assert "Elija una persona" in admin.get(bad.headers["Location"]).get_data(as_text=True)


def test_a_platform_account_is_added_masked_and_deactivated(app, web_as):
    admin = web_as("admin")
    token = csrf_token(admin, "/admin/accounts")
    response = admin.post(
        "/admin/accounts",
        data={
            "csrf_token": token,
            "platform": "meta",
            "name": "Meta Colombia",
            "external_account_id": "act_123456",
            "priority": "5",
            "credentials": "access_token = EAAB-muy-secreto-123456",
        },
    )
    assert response.status_code == 302
    html = admin.get("/admin/accounts").get_data(as_text=True)
    assert "Meta Colombia" in html and "access_token" in html and "muy-secreto" not in html
    with app.app_context():
        account_id = db.session.scalar(select(PlatformAccount.id))
    admin.post(
        f"/admin/accounts/{account_id}", data={"csrf_token": token, "name": "Meta CO", "priority": "9"}
    )
    admin.post(f"/admin/accounts/{account_id}", data={"csrf_token": token, "active": "0"})
    with app.app_context():
        account = db.session.get(PlatformAccount, account_id)
        assert account.active is False and account.name == "Meta CO" and account.priority == 9
    bad = admin.post(
        "/admin/accounts",
        data={"csrf_token": token, "platform": "myspace", "name": "", "external_account_id": "1"},
    )
    assert bad.status_code == 400 and "no se guardó" in bad.get_data(as_text=True)
