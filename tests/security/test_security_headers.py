"""Every response tells the browser: no inline script, no framing, no sniffing (and HSTS in production)."""

from __future__ import annotations

import pytest

from adflux.app import create_app
from web.conftest import create_user, sign_in

PAGES = [
    "/login",
    "/api/v1/docs",
    "/api/v1/openapi.json",
    "/healthz",
    "/assets/css/login.css",
    "/no-such-page",
]


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_carry_the_security_headers(anon_client, path):
    response = anon_client.get(path)
    csp = _csp(response)
    assert (
        csp["script-src"] == "'self'" and "unsafe-inline" not in response.headers["Content-Security-Policy"]
    )
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # not production: no HTTPS to insist on


def test_signed_in_dashboard_pages_and_forms_carry_them(app):
    create_user(app, "gestor@portal.co", "manager")
    browser = app.test_client()
    sign_in(browser, "gestor@portal.co")
    for path in ("/", "/campaigns", "/tasks"):
        response = browser.get(path)
        assert response.status_code == 200
        assert _csp(response)["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"
        page = response.get_data(as_text=True)
        # No inline script left: every <script> either loads a file or is a JSON data block.
        for tag in page.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening or 'type="application/json"' in opening, opening
        assert " on" + "click=" not in page and "<style" not in page


def test_swagger_ui_starts_from_a_file_not_an_inline_script(anon_client):
    page = anon_client.get("/api/v1/docs").get_data(as_text=True)
    assert '<script src="/assets/js/swagger-init.js"></script>' in page
    assert all("src=" in tag.split(">", 1)[0] for tag in page.split("<script")[1:])
    assert anon_client.get("/assets/js/swagger-init.js").status_code == 200


def test_production_adds_hsts(settings):
    production = create_app(
        settings.replace(env="production", secret_key="x" * 40, encryption_key="k" * 40, require_totp=False)
    )
    response = production.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
