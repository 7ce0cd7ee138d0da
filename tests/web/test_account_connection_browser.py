"""An admin adds a Meta account in the dashboard, tests its connection (against the platform sandbox
over loopback), reads what is missing in Spanish, fills the page id and tests again: all works.
Headless Chromium through Playwright, same fixtures and marker as test_dashboard_browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from web import test_dashboard_browser as browser
from web.conftest import create_user
from web.test_dashboard_browser import _screenshot, _sign_in

chromium, live_server, page = browser.chromium, browser.live_server, browser.page

pytestmark = pytest.mark.browser

ADMIN = "admin-cuentas@portal.test"


@pytest.fixture
def platform_sandbox(app: Flask) -> Iterator[SandboxServer]:
    sandbox = start_sandbox_in_thread()
    create_user(app, ADMIN, "admin")
    yield sandbox
    sandbox.stop()


def test_an_admin_tests_an_account_fixes_what_is_missing_and_tests_again(
    page: Any, live_server: str, platform_sandbox: SandboxServer, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server, ADMIN)
    page.goto(f"{live_server}/admin/accounts")
    page.click("summary:has-text('Agregar una cuenta')")
    page.select_option("#acc-platform", "meta")
    page.fill("#acc-name", "Meta Colombia")
    page.fill("#acc-ext", "1000000001")  # digits: saved as act_1000000001
    page.fill("#acc-url", platform_sandbox.base_url)
    token = SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"]
    page.fill("#acc-cred", f"access_token = {token}")
    page.fill("#acc-ids", "pixel_id = 555666777888")
    page.click("button:has-text('Agregar cuenta')")
    row = page.locator("table.accounts tbody tr").first
    assert "act_1000000001" in row.inner_text()
    assert "falta: ID de la página de Facebook" in row.locator("td.identifiers").inner_text()

    row.locator("button:has-text('Probar conexión')").click()
    result = page.locator("#connection-result")
    assert "Requiere atención" in result.inner_text()
    assert result.locator(".connection-summary").inner_text() == (
        "Conexión con Meta: Falta antes de publicar: ID de la página de Facebook."
    )
    facts = result.locator("dl.facts").inner_text().lower()  # the terms are styled in capitals
    assert "plataforma alcanzable\nsí" in facts and "credenciales aceptadas\nsí" in facts
    assert "activa (1)" in facts and "moneda\ncop" in facts and "america/bogota" in facts

    row = page.locator("table.accounts tbody tr").first
    row.locator("summary:has-text('Editar')").click()
    row.locator("input[name=id_page_id]").fill("100000000000001")
    row.locator("button:has-text('Guardar')").click()
    assert "Guardado" in page.locator(".flash-success").inner_text()
    page.locator("table.accounts tbody tr").first.locator("button:has-text('Probar conexión')").click()
    result = page.locator("#connection-result")
    assert "Funciona" in result.inner_text()
    assert (
        result.locator(".connection-summary")
        .inner_text()
        .startswith("La conexión con Meta funciona: la cuenta «Sandbox 1000000001» está activa, en COP")
    )
    assert "falta antes de publicar\nnada" in result.locator("dl.facts").inner_text().lower()
    _screenshot(page, artifacts_dir, "admin-accounts-test")
    assert page.problems == []
