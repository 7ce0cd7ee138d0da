"""Phone, keyboard and axe-core: the dashboard in headless Chromium at 1366 px and 390 px.

axe-core (vendored under tests/web/vendor, never served by the app) runs on every page an admin
can reach from the menu, plus a campaign and the campaign builder: no violation of any impact,
contrast included. At 390 px no page scrolls sideways and the menu folds behind a
button; by keyboard alone the skip link comes first, focus is always visible, and the menu opens
with Enter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from adflux.extensions import db
from web.conftest import PASSWORD, create_user
from web.test_dashboard_browser import (  # noqa: F401 (fixtures)
    CHROMIUM_ARGS,
    Seeded,
    _left_behind,
    chromium,
    live_server,
    seeded,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ADMIN = "accesible@portal.test"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
RUN_AXE = """async () => {
  const result = await window.axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').slice(0, 160)),
  }));
}"""
# The page's own sideways overflow (a table scrolling in its own box does not count).
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# What sticks out past the right edge (for the failure message): the outermost such elements.
WIDE = """() => {
  const clipped = (el) => { for (let a = el.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  const out = (el) => el.getBoundingClientRect().right > window.innerWidth + 1;
  return [...document.querySelectorAll('body *')]
    .filter((el) => out(el) && !clipped(el) && !(el.parentElement && out(el.parentElement)))
    .slice(0, 6)
    .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().width)}px`);
}"""
FOCUS_RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, cls: el.className, id: el.id, text: (el.textContent || '').trim().slice(0, 40),
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="es-CO")
    context.add_init_script(path=str(AXE))  # through the browser's protocol: the page's CSP allows it
    return context


@pytest.fixture
def admin(app: Flask, seeded: Seeded) -> Iterator[Seeded]:  # noqa: F811
    with app.app_context():
        create_user(app, ADMIN, "admin")
        db.session.remove()
    yield seeded


def _sign_in(page: Any, base: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _pages(page: Any, base: str, campaign_id: int) -> list[str]:
    hrefs = page.eval_on_selector_all("nav.mainnav a", "links => links.map((a) => a.getAttribute('href'))")
    return list(dict.fromkeys([*hrefs, f"/campaigns/{campaign_id}", "/campaigns/new", "/tasks"]))


def _audit(page: Any, base: str, paths: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state("load")
        serious = list(page.evaluate(RUN_AXE))  # every violation, whatever its impact
        overflow = page.evaluate(PAGE_OVERFLOW)
        if serious or overflow > 0:
            wide = page.evaluate(WIDE) if overflow > 0 else []
            found[path] = {"violations": serious, "overflow_px": overflow, "wide": wide}
    return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
def test_every_page_passes_axe_and_fits_the_screen(
    chromium: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    admin: Seeded,
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    context = _context(chromium, viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, live_server)
    paths = _pages(page, live_server, admin.campaign_id)
    assert len(paths) >= 11, paths
    found = _audit(page, live_server, paths)
    if viewport is PHONE:
        page.goto(f"{live_server}/campaigns/{admin.campaign_id}")
        page.screenshot(path=str(artifacts_dir / "phone-campaign.png"), full_page=True)
    context.close()
    (artifacts_dir / f"axe-{viewport['width']}px.json").write_text(
        json.dumps(found, indent=1, ensure_ascii=False)
    )
    assert found == {}, found
    assert errors == []


def test_at_390px_the_menu_folds_behind_a_button_that_opens_with_the_keyboard(
    chromium: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    admin: Seeded,
) -> None:
    context = _context(chromium, PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    nav, toggle = page.locator("nav.mainnav"), page.locator("button.nav-toggle")
    assert not nav.is_visible() and toggle.is_visible()
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 844 * 0.2, header  # the header leaves the screen to the page

    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS_RING)["cls"] == "nav-toggle"
    page.keyboard.press("Enter")
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUS_RING)
    assert focused["text"] == "Ofertas" and focused["outline"] != "none" and focused["width"] >= 2
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/jobs")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert not nav.is_visible() and page.evaluate(FOCUS_RING)["cls"] == "nav-toggle"
    context.close()


def test_the_skip_link_comes_first_and_every_focus_is_visible(
    chromium: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    admin: Seeded,
) -> None:
    context = _context(chromium, DESKTOP)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(f"{live_server}/campaigns/{admin.campaign_id}")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_RING)
    assert first["text"] == "Saltar al contenido" and first["outline"] != "none"
    assert page.locator("a.skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"
    # Forty Tabs through the campaign page: each stop has a visible focus ring.
    invisible = []
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] == "BODY":  # past the last stop: focus left the page for the browser's own UI
            break
        if ring["outline"] == "none" or ring["width"] < 2:
            invisible.append(ring)
    assert invisible == []
    context.close()


def test_each_chart_offers_its_data_as_a_table(
    chromium: Any,  # noqa: F811
    live_server: str,  # noqa: F811
    admin: Seeded,
) -> None:
    context = _context(chromium, DESKTOP)
    page = context.new_page()
    _sign_in(page, live_server)
    for path in ("/", f"/campaigns/{admin.campaign_id}", "/segments"):
        page.goto(live_server + path)
        charts = page.locator("figure.chart")
        assert charts.count() > 0, path
        for i in range(charts.count()):
            figure = charts.nth(i)
            details = figure.locator("details.chart-data")
            assert details.count() == 1, (path, i)
            details.locator("summary").click()
            table = details.locator("table")
            assert table.is_visible() and table.locator("tbody tr").count() > 0, (path, i)
    # The campaign's spend table: one row per day, one column per platform, in pesos.
    page.goto(f"{live_server}/campaigns/{admin.campaign_id}")
    spend = page.locator("figure.chart:has(#campaign-spend) details.chart-data")
    spend.locator("summary").click()
    head = [th.strip() for th in spend.locator("thead th").all_text_contents()]
    assert head == ["Día", "Google Ads", "Meta", "TikTok"], head
    assert spend.locator("tbody td").first.inner_text().startswith("$ ")
    context.close()
