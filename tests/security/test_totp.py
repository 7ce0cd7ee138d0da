"""Two-step sign-in: RFC 6238 codes, enrolment from the CLI, enforced for admins and managers."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask

from adflux.app import create_app
from adflux.services import totp
from web.conftest import PASSWORD, create_user, csrf_token

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238 appendix B


@pytest.mark.parametrize(("when", "code"), [(59, "287082"), (1111111109, "081804"), (2000000000, "279037")])
def test_codes_match_the_rfc_6238_test_vectors(when, code):
    assert totp.code_at(RFC_SECRET, totp.current_step(when)) == code
    assert totp.matching_step(RFC_SECRET, code, now=when + 30) is not None  # one step of drift
    assert totp.matching_step(RFC_SECRET, code, now=when + 90) is None


def _try(client, email: str, code: str | None = None):
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if code is not None:
        data["code"] = code
    return client.post("/login", data=data)


def _enrol(cli, email: str) -> str:
    result = cli("--json", "users", "totp-enable", email)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["otpauth_uri"].startswith("otpauth://totp/AdFlux%3A")
    return str(answer["secret"])


def test_an_enrolled_admin_needs_the_current_code_and_it_works_once(app, cli):
    create_user(app, "admin@portal.co", "admin")
    secret = _enrol(cli, "admin@portal.co")
    browser = app.test_client()
    without = _try(browser, "admin@portal.co")
    assert without.status_code == 401 and "aplicación de autenticación" in without.get_data(as_text=True)
    assert (
        _try(
            browser,
            "admin@portal.co",
            "000000" if totp.code_at(secret, totp.current_step()) != "000000" else "111111",
        ).status_code
        == 401
    )
    code = totp.code_at(secret, totp.current_step())
    assert _try(browser, "admin@portal.co", code).status_code == 302
    replay = app.test_client()
    assert _try(replay, "admin@portal.co", code).status_code == 401  # a code is never accepted twice


def test_required_totp_refuses_unenrolled_admins_and_managers_but_not_viewers(app, settings):
    strict = create_app(settings.replace(require_totp=True))
    create_user(app, "gestor@portal.co", "manager")
    create_user(app, "lector@portal.co", "viewer")
    refused = _try(strict.test_client(), "gestor@portal.co")
    assert refused.status_code == 401 and "totp-enable" in refused.get_data(as_text=True)
    assert _try(strict.test_client(), "lector@portal.co").status_code == 302


def test_the_login_page_asks_for_the_code(app):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert re.search(r'name="code"', page) and 'autocomplete="one-time-code"' in page


def test_disable_turns_it_off(app: Flask, cli):
    create_user(app, "admin@portal.co", "admin")
    _enrol(cli, "admin@portal.co")
    assert cli("users", "totp-disable", "admin@portal.co").exit_code == 0
    assert _try(app.test_client(), "admin@portal.co").status_code == 302
