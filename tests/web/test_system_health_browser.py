"""The system-health page in a real browser: an admin reads the daily checklist from one page.

Headless Chromium through Playwright, as in test_dashboard_browser (same fixtures, same marker):
the admin finds the page in the menu (a manager does not), sees every service, the platforms
(the sandbox), the last backup, the active model with its drift and the open alerts, and the
page refreshes itself: an alert opened meanwhile shows up without a click.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from adflux import embedded
from adflux.extensions import db
from adflux.models import Alert
from adflux.sandbox.server import start_sandbox_in_thread
from adflux.services import backups
from adflux.services.health import clear_platform_cache
from adflux.web.views import system_health as view
from ops_data import make_model
from web import test_dashboard_browser as browser
from web.conftest import create_user
from web.test_dashboard_browser import _screenshot, _sign_in

chromium, live_server, page = browser.chromium, browser.live_server, browser.page

pytestmark = pytest.mark.browser

ADMIN = "admin-salud@portal.test"
MANAGER = "gerente-salud@portal.test"


@pytest.fixture
def system(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An admin and a manager, the platform sandbox, a backup, an active model and an open alert."""
    monkeypatch.setattr(view, "REFRESH_SECONDS", 2)
    clear_platform_cache()
    sandbox = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(sandbox)
    try:
        with app.app_context():
            create_user(app, ADMIN, "admin")
            create_user(app, MANAGER, "manager")
            make_model(version=3, silhouette=0.412, drift={"psi": {"city": 0.31}})
            db.session.add(
                Alert(rule="segmentation_drift", key="", severity="warning", status="open",
                      message="Drift 0.31 above 0.25")
            )  # fmt: skip
            db.session.commit()
            backups.create_backup(label="salud")
            db.session.remove()
        yield
    finally:
        embedded.set_in_process_sandbox(None)
        sandbox.stop()
        clear_platform_cache()


def test_an_admin_reads_the_daily_checklist_from_the_system_health_page(
    page: Any, live_server: str, system: None, app: Flask, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server, ADMIN)
    page.click("nav.mainnav >> text=Salud del sistema")
    page.wait_for_url(f"{live_server}/system-health")
    assert page.locator("h1").inner_text() == "Salud del sistema"

    services = page.locator("#health-services")
    assert "Base de datos" in services.locator('tr[data-check="database"] th').text_content()
    assert services.locator('tr[data-check="database"] .badge').inner_text() == "Correcto"
    assert services.locator('tr[data-check="broker"] .badge').inner_text() == "Correcto"
    assert "modo integrado" in services.locator('tr[data-check="beat"]').inner_text().lower()

    platforms = page.locator("#health-platforms tr[data-platform]")
    assert platforms.count() == 5
    assert page.locator('#health-platforms tr[data-platform="meta"] .badge').inner_text() == "Correcto"

    assert "salud" in page.locator("#health-backup").inner_text()
    model = page.locator("#health-model").inner_text()
    assert "Versión activa 3" in model and "0,412" in model and "0,31" in model
    alerts = page.locator("#health-alerts")
    assert alerts.locator(".count").inner_text() == "1" and "Deriva de los segmentos" in alerts.inner_text()
    _screenshot(page, artifacts_dir, "system-health")

    # Meanwhile the evaluator opens another alert: the page shows it on its own.
    with app.app_context():
        db.session.add(
            Alert(rule="queue_backlog", key="queue:sync", severity="warning", status="open",
                  message="250 tasks waiting in queue sync")
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    expect(page.locator("#health-alerts .count")).to_have_text("2", timeout=15_000)
    assert "Cola acumulada · Cola sync" in page.locator("#health-alerts").inner_text()
    assert page.problems == []


def test_the_page_is_for_admins_only(page: Any, live_server: str, system: None) -> None:
    _sign_in(page, live_server, MANAGER)
    assert page.locator("nav.mainnav >> text=Salud del sistema").count() == 0
    response = page.goto(f"{live_server}/system-health")
    assert response is not None and response.status == 403
    page.problems.clear()  # the 403 above is the point of this test
