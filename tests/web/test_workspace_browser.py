"""The marketing manager's workspace in a real browser (headless Chromium through Playwright):
find an opening, build a campaign, read the platform-shaped previews and the confirmation, publish
to the platform sandbox and see it active; a platform that fails shows the campaign as partial;
an admin invites a person and creates a token. Same fixtures and marker as test_dashboard_browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from adflux import embedded
from adflux.extensions import db
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from factories import make_job, make_segments
from web import test_dashboard_browser as browser
from web.conftest import create_user
from web.test_dashboard_browser import EMAIL, _screenshot, _sign_in

chromium, live_server, page = browser.chromium, browser.live_server, browser.page

pytestmark = pytest.mark.browser

ADMIN = "admin@portal.test"


@pytest.fixture
def workspace(app: Flask) -> Iterator[SandboxServer]:
    """A manager, an admin, an active segmentation model and two openings; the sandbox wired in."""
    sandbox = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(sandbox)
    try:
        with app.app_context():
            create_user(app, EMAIL, "manager")
            create_user(app, ADMIN, "admin")
            make_segments(2)
            make_job(title="Enfermera jefe de urgencias", city="Bogotá D.C.", department="Bogotá D.C.")
            make_job(title="Asesor comercial", city="Medellín", department="Antioquia")
            db.session.remove()
        yield sandbox
    finally:
        embedded.set_in_process_sandbox(None)
        sandbox.stop()


def _build(page: Any, base: str, platforms: list[str], budget: str, *, to_review: bool = True) -> None:
    """From the jobs page: search without accents, open the builder, fill it, go to the review."""
    page.click("nav.mainnav >> text=Ofertas")
    page.fill("#job-q", "enfermera")
    page.fill("#job-city", "bogota")
    page.click("form.filters button[type=submit]")
    row = page.locator("table.jobs tbody tr")
    assert row.count() == 1 and "Enfermera jefe de urgencias" in row.inner_text()
    row.locator("a:has-text('Crear campaña')").click()
    page.wait_for_url(re.compile(r".*/campaigns/new\?job_id=\d+"))
    for platform in platforms:
        page.check(f"input[name=platforms][value={platform}]")
    page.locator("table.segments-pick input[name=segment_ids]").first.check()
    page.fill("#budget_total", budget)
    page.fill("#target_cpa", "30000")
    page.click("button:has-text('Ver los anuncios')")
    if to_review:
        page.wait_for_url(re.compile(r".*/campaigns/\d+/review"))
    else:
        page.wait_for_load_state("load")


def test_a_manager_builds_previews_confirms_and_publishes_a_campaign(
    page: Any, live_server: str, workspace: SandboxServer, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server)
    _build(page, live_server, ["meta", "google", "x", "tiktok", "snapchat"], "8.000.000")
    # Every platform's ad in its own shape, with the creative's text and no raw code.
    for platform in ("meta", "google", "x", "tiktok", "snapchat"):
        assert page.locator(f'.mockup[data-platform="{platform}"] .mock-headline').inner_text().strip()
    assert page.locator(".mock-vertical").count() == 2 and page.locator(".mock-search").count() == 1
    assert "APPLY_NOW" not in page.content() and "micros" not in page.content()
    assert page.locator(".compliance-line > p").count() == 5
    confirmation = page.locator("#confirm-text").inner_text()
    assert "$ 8.000.000" in confirmation and "5 plataformas" in confirmation
    assert page.locator("#confirmation tbody tr").count() == 5
    _screenshot(page, artifacts_dir, "campaign-review")

    # Publishing needs the confirmation ticked (the browser refuses the form without it).
    page.click("#confirmation button:has-text('Publicar')")
    assert "/review" in page.url
    page.check("input[name=confirmed]")
    page.click("#confirmation button:has-text('Publicar')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert "La publicación terminó" in page.locator(".flash-success").inner_text()
    assert "Activa" in page.locator("h1").inner_text()
    assert page.locator("table.platforms .badge-active").count() == 5
    assert page.locator("#spend-control progress.pacing-bar").count() == 1
    _screenshot(page, artifacts_dir, "campaign-published")

    # The list shows it with its spend columns, and the builder warns before an identical twin.
    page.click("nav.mainnav >> text=Campañas")
    assert page.locator("table.campaigns tbody tr").count() == 1
    _build(page, live_server, ["meta", "google", "x", "tiktok", "snapchat"], "8000000", to_review=False)
    assert "Ya existe una campaña idéntica" in page.locator("#duplicate-warning").inner_text()
    assert "/campaigns/new" in page.url
    assert page.problems == []


def test_a_platform_that_fails_leaves_the_campaign_shown_as_partial(
    page: Any, live_server: str, workspace: SandboxServer
) -> None:
    workspace.expire_tokens("google")
    _sign_in(page, live_server)
    _build(page, live_server, ["meta", "google"], "2000000")
    page.check("input[name=confirmed]")
    page.click("#confirmation button:has-text('Publicar')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert "Parcialmente activa" in page.locator(".flash-error").inner_text()
    assert "Parcialmente activa" in page.locator("h1").inner_text()
    assert page.locator("table.platforms .badge-failed").count() == 1
    assert page.locator("button:has-text('Reintentar plataformas fallidas')").count() == 1
    page.problems[:] = [p for p in page.problems if "HTTP 4" not in p]
    assert page.problems == []


def test_an_admin_invites_a_person_and_creates_a_token_once_shown(
    page: Any, live_server: str, workspace: SandboxServer, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server, ADMIN)
    page.click("nav.mainnav >> text=Administración")
    page.wait_for_url(f"{live_server}/admin/users")
    page.fill("#invite-email", "nueva.persona@portal.test")
    page.select_option("#invite-role", "manager")
    page.click("button:has-text('Invitar')")
    assert page.locator("#invited code.secret").inner_text().strip()
    assert page.locator("table.users tbody tr").count() == 3
    _screenshot(page, artifacts_dir, "admin-users")
    page.click("nav.tabs >> text=Tokens de API")
    page.fill("#token-name", "integración ATS")
    page.click("button:has-text('Crear token')")
    secret = page.locator("#issued code.secret").inner_text().strip()
    assert secret.startswith("adf")
    page.click("nav.tabs >> text=Tokens de API")
    assert secret not in page.content()
    page.locator("table.tokens button:has-text('Revocar')").click()
    assert "revocado" in page.locator(".flash-success").inner_text()
    page.click("nav.tabs >> text=Cuentas de plataforma")
    assert page.locator("h1").inner_text() == "Cuentas de plataforma"
    assert page.problems == []


def test_a_manager_swaps_a_live_campaigns_segment_and_sees_every_platform_follow(
    page: Any, live_server: str, workspace: SandboxServer, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server)
    _build(page, live_server, ["meta", "tiktok"], "3000000")  # the first segment ticked
    page.check("input[name=confirmed]")
    page.click("#confirmation button:has-text('Publicar')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert "Activa" in page.locator("h1").inner_text()
    groups_before = {p: len(workspace.state.all(p, k)) for p, k in (("meta", "adset"), ("tiktok", "adgroup"))}

    page.click("a.button:has-text('Cambiar')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+/edit$"))
    boxes = page.locator("table.segments-pick input[name=segment_ids]")
    assert boxes.count() == 2 and boxes.nth(0).is_checked() and not boxes.nth(1).is_checked()
    boxes.nth(1).check()
    boxes.nth(0).uncheck()
    _screenshot(page, artifacts_dir, "campaign-edit-segments")
    page.click("button:has-text('Enviar el cambio')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    assert page.locator(".flash-success").count() == 1
    states = page.locator("table.platforms td.update-state")
    assert states.count() == 2
    assert all("aplicada" in states.nth(i).inner_text() for i in range(2)), states.all_inner_texts()
    # A new ad group on each platform, switched on; the old one paused, not deleted.
    for platform, kind, field, on in (("meta", "adset", "status", "ACTIVE"),
                                      ("tiktok", "adgroup", "operation_status", "ENABLE")):  # fmt: skip
        rows = workspace.state.all(platform, kind)
        assert len(rows) == groups_before[platform] + 1
        assert sorted(row[field] == on for row in rows) == [False, True]
    page.goto(page.url + "/edit")
    boxes = page.locator("table.segments-pick input[name=segment_ids]")
    assert not boxes.nth(0).is_checked() and boxes.nth(1).is_checked()
    assert page.problems == []
