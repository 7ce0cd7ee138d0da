"""Dashboard sign-in: hashed passwords, CSRF-protected forms, safe redirects, secure cookies."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from adflux.app import create_app
from adflux.services import auth as auth_service
from adflux.web.auth import login_required

PASSWORD = "una clave bastante larga"


def _csrf(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _make_user(app: Flask, email: str, role: str = "viewer", password: str = PASSWORD) -> int:
    with app.app_context():
        return auth_service.create_user(email=email, role=role, password=password).id


def _login(client, email: str, password: str = PASSWORD, **extra: str):
    data = {"email": email, "password": password, "csrf_token": _csrf(client), **extra}
    return client.post("/login", data=data)


@pytest.fixture
def browser(app):
    return app.test_client()


@pytest.fixture
def pages_app(app, settings) -> Flask:
    """An app with two pages protected by login_required, as dashboard pages will be."""
    # Needs `app` too: the shared database is emptied after tests that use it.
    app = create_app(settings)

    @app.get("/test-pages/viewer")
    @login_required()
    def viewer_page() -> str:
        return "viewer page"

    @app.get("/test-pages/manager")
    @login_required("manager")
    def manager_page() -> str:
        return "manager page"

    return app


def test_the_login_form_carries_a_csrf_token(browser):
    page = browser.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)


def test_a_form_post_without_the_csrf_token_is_refused(app, browser):
    _make_user(app, "ana@portal.co")
    response = browser.post("/login", data={"email": "ana@portal.co", "password": PASSWORD})
    assert response.status_code == 400
    assert "session" not in response.headers.get("Set-Cookie", "") or "user_id" not in str(response.headers)


def test_signing_in_with_the_right_password_opens_a_session(app, browser):
    _make_user(app, "ana@portal.co")
    response = _login(browser, "ANA@portal.co")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_or_unknown_email_gets_the_same_answer(app, browser):
    _make_user(app, "ana@portal.co")
    wrong = _login(browser, "ana@portal.co", "otra clave cualquiera")
    unknown = _login(browser, "nadie@portal.co")
    assert wrong.status_code == unknown.status_code == 401
    assert "Correo o contraseña incorrectos." in wrong.get_data(as_text=True)
    assert "Correo o contraseña incorrectos." in unknown.get_data(as_text=True)


def test_a_deactivated_user_cannot_sign_in(app, browser):
    user_id = _make_user(app, "ana@portal.co", role="viewer")
    with app.app_context():
        auth_service.update_user(user_id=user_id, changes={"active": False})
    assert _login(browser, "ana@portal.co").status_code == 401


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_to_another_site(app, browser, target):
    _make_user(app, "ana@portal.co")
    response = _login(browser, "ana@portal.co", next=target)
    assert response.headers["Location"] == "/"


def test_pages_send_anonymous_people_to_login_and_back(pages_app):
    _make_user(pages_app, "ana@portal.co")
    with pages_app.test_client() as browser:
        first = browser.get("/test-pages/viewer")
        assert first.status_code == 302 and first.headers["Location"].startswith("/login?next=")
        response = _login(browser, "ana@portal.co", next="/test-pages/viewer")
        assert response.headers["Location"] == "/test-pages/viewer"
        assert browser.get("/test-pages/viewer").get_data(as_text=True) == "viewer page"
        assert browser.get("/test-pages/manager").status_code == 403


def test_signing_out_ends_the_session(pages_app):
    _make_user(pages_app, "ana@portal.co")
    with pages_app.test_client() as browser:
        _login(browser, "ana@portal.co")
        assert browser.get("/test-pages/viewer").status_code == 200
        assert browser.post("/logout").status_code == 400  # without CSRF token: refused
        token = _csrf(browser)
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
        assert browser.get("/test-pages/viewer").status_code == 302


def test_changing_the_password_or_deactivating_ends_other_sessions(pages_app):
    user_id = _make_user(pages_app, "ana@portal.co", role="manager")
    with pages_app.test_client() as browser:
        _login(browser, "ana@portal.co")
        assert browser.get("/test-pages/manager").status_code == 200
        with pages_app.app_context():
            auth_service.update_user(user_id=user_id, changes={"password": "una clave nueva y larga"})
        assert browser.get("/test-pages/manager").status_code == 302


def test_the_api_needs_no_csrf_token_with_a_bearer_token(client):
    response = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": client.get("/api/v1/me").json["id"]}
    )
    assert response.status_code == 201


def test_a_session_cookie_does_not_authenticate_the_api(app, browser):
    _make_user(app, "ana@portal.co", role="admin")
    _login(browser, "ana@portal.co")
    assert browser.get("/api/v1/jobs").status_code == 401


def test_production_cookies_are_secure_and_the_default_secret_key_is_refused(tmp_path):
    from adflux.settings import Settings, SettingsError

    base = {"env": "production", "instance_path": str(tmp_path), "encryption_key": "k" * 40}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(Settings.from_env({}, **base))
    app = create_app(Settings.from_env({}, secret_key="s" * 48, **base))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
