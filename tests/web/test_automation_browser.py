"""Approvals in a real browser: a manager rejects one campaign with a reason and approves another.

The campaigns awaiting approval are made by the real loop (a feed file read by `run_feed`, and a
playbook that requires approval); approving publishes to the platform sandbox. Headless Chromium
through Playwright, as in test_dashboard_browser (same fixtures, same marker).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from adflux import embedded
from adflux.extensions import db
from adflux.sandbox.server import start_sandbox_in_thread
from adflux.services import approvals
from adflux.services.feeds import registry as feeds
from adflux.services.feeds import runs
from adflux.services.playbooks import registry as playbooks
from adflux.simulation.portal_feed import render_xml
from feed_helpers import feed_jobs
from web import test_dashboard_browser as browser
from web.conftest import create_user
from web.test_dashboard_browser import EMAIL, _screenshot, _sign_in

# The browser fixtures of the dashboard's browser tests: Chromium, the live server, a watched page.
chromium, live_server, page = browser.chromium, browser.live_server, browser.page

pytestmark = pytest.mark.browser


@pytest.fixture
def pending(app: Flask, tmp_path: Path) -> Iterator[list[tuple[int, str]]]:
    """A manager and two campaigns awaiting approval: [(id, name), ...], oldest first."""
    sandbox = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(sandbox)
    try:
        with app.app_context():
            create_user(app, EMAIL, "manager")
            playbooks.create_playbook(
                data={
                    "name": "Revisar antes de publicar",
                    "platforms": ["meta", "google"],
                    "budget_total": 1_200_000,
                    "requires_approval": True,
                }
            )
            path = tmp_path / "feed.xml"
            path.write_bytes(render_xml(feed_jobs(2)))
            feed = feeds.create_feed(data={"name": "Portal", "location": str(path)})
            runs.run_feed(feed_id=feed.id)
            waiting = [(c.id, c.name) for c in approvals.list_pending().items]
            db.session.remove()
        assert len(waiting) == 2
        yield waiting
    finally:
        embedded.set_in_process_sandbox(None)
        sandbox.stop()


def test_a_manager_rejects_one_campaign_and_approves_another(
    page: Any, live_server: str, pending: list[tuple[int, str]], artifacts_dir: Path
) -> None:
    (rejected_id, rejected_name), (approved_id, approved_name) = pending
    _sign_in(page, live_server)
    page.click("nav.mainnav >> text=Automatización")
    page.click("nav.tabs >> text=Aprobaciones")
    page.wait_for_url(f"{live_server}/approvals")
    assert page.locator("nav.tabs .count").inner_text() == "2"
    assert page.locator("article.approval").count() == 2
    _screenshot(page, artifacts_dir, "approvals")

    # Reject the first, with a reason.
    row = page.locator(f'article[data-campaign-id="{rejected_id}"]')
    row.locator("input[name=reason]").fill("El presupuesto es alto para este cargo")
    row.locator("button:has-text('Rechazar')").click()
    page.wait_for_load_state("load")
    assert f"«{rejected_name}» rechazada: no se publicará." in page.locator(".flash-success").inner_text()
    assert page.locator(f'article[data-campaign-id="{rejected_id}"]').count() == 0

    # Approve the second: it is published (to the sandbox) at once.
    page.locator(f'article[data-campaign-id="{approved_id}"]').locator("button:has-text('Aprobar')").click()
    page.wait_for_load_state("load")
    assert (
        f"«{approved_name}» aprobada: la publicación comenzó." in page.locator(".flash-success").inner_text()
    )
    assert page.locator("p.empty").inner_text() == "Ninguna campaña espera aprobación."
    assert page.locator("nav.tabs .count").count() == 0

    # Both outcomes, on the campaigns' own pages.
    page.goto(f"{live_server}/campaigns/{rejected_id}")
    assert "Archivada" in page.locator("h1").inner_text()
    page.goto(f"{live_server}/campaigns/{approved_id}")
    assert "Activa" in page.locator("h1").inner_text()
    assert page.locator("table.platforms .badge-active").count() == 2

    assert page.problems == []
