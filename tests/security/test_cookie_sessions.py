"""The session cookie (adflux.cookie_sessions): Flask's signed cookie, no cost without one."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

from adflux.app import create_app
from adflux.cookie_sessions import LeanSessionInterface
from conftest import issue_test_token
from web.conftest import create_user, sign_in


def test_api_calls_with_a_bearer_token_build_no_session_serializer(app, settings):
    served = create_app(settings)  # a new app: nothing has signed a cookie in it yet
    interface = served.session_interface
    assert isinstance(interface, LeanSessionInterface)
    _, token = issue_test_token(served, "viewer")
    client = served.test_client()
    for _ in range(3):
        response = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    assert interface._serializers == {}


def test_signed_in_pages_use_one_serializer_and_flasks_cookie_format(app, settings):
    served = create_app(settings)
    create_user(served, "ana@portal.co", "viewer")
    client = served.test_client()
    sign_in(client, "ana@portal.co")
    assert client.get("/").status_code == 200
    serializers = list(served.session_interface._serializers.values())
    assert len(serializers) == 1
    assert client.get("/").status_code == 200
    assert list(served.session_interface._serializers.values()) == serializers  # kept, not rebuilt
    # The cookie is the one Flask's own interface signs and reads: same key, salt and format.
    cookie = client.get_cookie("session")
    assert cookie is not None
    stock = SecureCookieSessionInterface().get_signing_serializer(served)
    assert stock is not None
    data = stock.loads(cookie.value)
    assert isinstance(data, dict) and data


def test_a_tampered_cookie_is_an_empty_session(app, settings):
    served = create_app(settings)
    create_user(served, "ana@portal.co", "viewer")
    client = served.test_client()
    sign_in(client, "ana@portal.co")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/").status_code == 200
    thief = served.test_client()
    thief.set_cookie("session", cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
