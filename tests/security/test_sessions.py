"""Dashboard sessions end: 12 h lifetime, idle timeout, and sign-out that ends every copy."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask

from adflux.app import create_app
from adflux.services import auth as auth_service
from adflux.services import sessions
from web.conftest import create_user, csrf_token, sign_in


def _signed_in(app: Flask, email: str = "ana@portal.co", role: str = "manager"):
    create_user(app, email, role)
    client = app.test_client()
    sign_in(client, email)
    return client


def _copy_of(app: Flask, client):
    """Another browser holding a copy of `client`'s session cookie (e.g. stolen from a laptop)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _user_id(app: Flask, email: str) -> int:
    with app.app_context():
        return auth_service.list_users(email=email).items[0].id


def test_the_session_lifetime_is_12_hours_not_flasks_31_days(app, settings):
    assert create_app(settings).permanent_session_lifetime == timedelta(hours=12)
    assert create_app(settings.replace(session_lifetime_hours=2)).permanent_session_lifetime == timedelta(
        hours=2
    )


def test_the_session_cookie_expires_in_12_hours(app):
    create_user(app, "ana@portal.co", "viewer")
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": "ana@portal.co",
            "password": "una clave bastante larga",
            "csrf_token": csrf_token(client),
        },
    )
    cookie = client.get_cookie("session")
    assert response.status_code == 302 and cookie is not None and cookie.expires is not None
    lifetime = cookie.expires.timestamp() - time.time()
    assert timedelta(hours=11, minutes=59).total_seconds() < lifetime <= timedelta(hours=12).total_seconds()


def test_a_copied_cookie_stops_working_after_logout(app):
    client = _signed_in(app)
    thief = _copy_of(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session is open
    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logout.status_code == 302
    after = thief.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "change", [{"password": "otra clave bastante larga"}, {"role": "viewer"}, {"active": False}]
)
def test_a_password_role_or_active_change_ends_every_session_of_the_user(app, change):
    client = _signed_in(app)
    other_browser = app.test_client()
    sign_in(other_browser, "ana@portal.co")
    assert client.get("/").status_code == 200 and other_browser.get("/").status_code == 200
    with app.app_context():
        auth_service.update_user(user_id=_user_id(app, "ana@portal.co"), changes=change)
    for browser in (client, other_browser):
        response = browser.get("/")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_name_change_keeps_the_sessions(app):
    client = _signed_in(app)
    with app.app_context():
        auth_service.update_user(user_id=_user_id(app, "ana@portal.co"), changes={"name": "Ana M."})
    assert client.get("/").status_code == 200


def test_an_idle_session_ends_after_the_idle_timeout(app, monkeypatch):
    client = _signed_in(app)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 59 * 60)
    assert client.get("/").status_code == 200  # used again within the hour: still open
    monkeypatch.setattr(time, "time", lambda: real() + 59 * 60 + 61 * 60)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_active_session_still_ends_12_hours_after_sign_in(app, settings):
    stamp = sessions.SessionStamp(1, 0, "", opened_at=1_000.0, seen_at=1_000.0 + 12 * 3600)
    busy = settings.replace(session_idle_minutes=0)
    assert not sessions.expired(stamp, now=1_000.0 + 12 * 3600 - 1, settings=busy)
    assert sessions.expired(stamp, now=1_000.0 + 12 * 3600 + 1, settings=busy)


def test_a_session_from_before_this_release_must_sign_in_again(app):
    client = _signed_in(app)
    with client.session_transaction() as session:  # what older releases stored: no times, no generation
        for key in ("auth_gen", "auth_at", "seen_at"):
            session.pop(key)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
