"""The dashboard in a real browser: headless Chromium through Playwright against a real HTTP server.

Data comes through the real paths: a campaign published to the platform sandbox (whose clock starts
three weeks ago and is then moved to today) and its metrics pulled by the metrics sync. Screenshots
go to the test artifacts directory (ADFLUX_TEST_ARTIFACTS); with ADFLUX_UPDATE_DOC_SCREENSHOTS=1 they
are also copied to docs/img/ for the user guide.

Run: `.venv/bin/pytest -m browser tests/web` (needs /usr/bin/chromium; skipped locally without it,
a failure when CI=true).
"""

from __future__ import annotations

import os
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from adflux import embedded
from adflux.extensions import db
from adflux.models import Alert, SegmentationModel
from adflux.sandbox.server import start_sandbox_in_thread
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates, metrics_sync, task_runs
from conftest import require_service
from factories import make_job, make_segments
from web.conftest import PASSWORD, create_user, k_search_rows

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
HISTORY_DAYS = 21
EMAIL = "gerente@portal.test"

# True when every chart canvas on the page has a Chart.js instance with data points.
CHARTS_DRAWN = """() => {
  const canvases = [...document.querySelectorAll('canvas[data-chart-spec]')];
  return !!window.Chart && canvases.length > 0 && canvases.every((c) => window.Chart.getChart(c));
}"""
# What Chart.js drew on each canvas: chart type, datasets and how many non-empty points.
CHART_SUMMARY = """() => [...document.querySelectorAll('canvas[data-chart-spec]')].map((canvas) => {
  const chart = window.Chart.getChart(canvas);
  return {
    id: canvas.id,
    type: chart.config.type,
    width: canvas.width,
    datasets: chart.data.datasets.length,
    points: chart.data.datasets.reduce(
      (n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0),
    nonzero: chart.data.datasets.some((d) => d.data.some((v) => (typeof v === 'number' ? v > 0 : !!v))),
  };
})"""


@dataclass
class Seeded:
    campaign_id: int
    campaign_name: str
    task_id: str


@pytest.fixture
def chromium() -> Iterator[Any]:
    """The system Chromium, headless, driven by Playwright."""
    if not CHROMIUM.exists():
        require_service("chromium", f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on 127.0.0.1 (a free port), in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-http", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def seeded(app: Flask) -> Iterator[Seeded]:
    """A manager, a trained model, and a campaign with three weeks of synced results."""
    start = None
    with app.app_context():
        start = local_dates.today() - timedelta(days=HISTORY_DAYS)
    sandbox = start_sandbox_in_thread(start_date=start)
    embedded.set_in_process_sandbox(sandbox)
    try:
        with app.app_context():
            create_user(app, EMAIL, "manager")
            segments = _trained_model()
            job = make_job(title="Desarrollador(a) Python Senior", city="Medellín", department="Antioquia")
            campaign = campaigns_service.create_campaign(
                job_id=job.id,
                platforms=["meta", "google", "tiktok"],
                budget_total=12_000_000,
                budget_daily=450_000,
                target_cpa=20_000,
                segment_ids=[s.id for s in segments[:2]],
                start_date=start,
            )
            run = campaigns_service.publish_campaign(campaign_id=campaign.id)
            sandbox.advance_days(HISTORY_DAYS)
            result = metrics_sync.sync_metrics(lookback_days=HISTORY_DAYS + 7)
            assert result.rows > 0 and not result.failed_platforms, result.as_dict()
            db.session.add(
                Alert(
                    rule="campaign_cpa",
                    key=f"campaign:{campaign.id}",
                    severity="warning",
                    message="El CPA de TikTok supera el objetivo en los últimos 7 días.",
                    value=31_500,
                    threshold=20_000,
                )
            )
            db.session.commit()
            seeded = Seeded(campaign.id, campaign.name, run.id)
            db.session.remove()
        yield seeded
    finally:
        embedded.set_in_process_sandbox(None)
        sandbox.stop()


def _trained_model() -> list[Any]:
    """Two model versions as training leaves them: k search, scores, profiles and PCA centroids."""
    make_segments(4, version=1, status="retired")
    segments = make_segments(3, version=2, status="active")
    profiles = [
        ("Tecnología · Bogotá", (-1.8, 0.9), "tecnologia", "Bogotá", ["python", "sql", "aws"]),
        ("Ventas · Medellín", (1.6, 1.2), "ventas", "Medellín", ["ventas", "negociación"]),
        ("Servicio al cliente · Cali", (0.2, -1.7), "servicio_cliente", "Cali", ["atención", "excel"]),
    ]
    for segment, (name, (x, y), category, city, skills) in zip(segments, profiles, strict=True):
        segment.name, segment.pca_x, segment.pca_y = name, x, y
        segment.description = f"Personas de {city} interesadas en {category.replace('_', ' ')}."
        segment.profile = {
            "top_cities": [{"value": city, "share": 0.58}, {"value": "Soacha", "share": 0.07}],
            "age_band": "25–34",
            "top_categories": [{"value": category, "label": category.capitalize(), "share": 0.81}],
            "top_skills": [{"value": s, "share": round(0.7 - 0.15 * i, 2)} for i, s in enumerate(skills)],
            "median_expected_salary": 3_200_000,
        }
    # The plotting sample training keeps: candidates scattered around their segment's centre.
    rng = random.Random(7)
    points = [
        {"x": round(rng.gauss(s.pca_x, 0.55), 4), "y": round(rng.gauss(s.pca_y, 0.45), 4), "segment": i}
        for i, s in enumerate(segments)
        for _ in range(150 * (i + 1))
    ]
    for version, best in ((1, 4), (2, 3)):
        model = db.session.query(SegmentationModel).filter_by(version=version).one()
        model.metrics = {"k_search": k_search_rows(best)}
        if version == 2:
            model.metrics["pca"] = {"explained_variance_ratio": [0.31, 0.18], "points": points}
        model.silhouette, model.davies_bouldin, model.calinski_harabasz = 0.38 + version / 100, 0.9, 1450.0
        model.training_size = 120_000
    db.session.commit()
    return segments


@pytest.fixture
def page(chromium: Any, live_server: str, artifacts_dir: Path) -> Iterator[Any]:
    """A fresh browser page that records console errors, page errors and failed requests."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="es-CO")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: None if _left_behind(r) else problems.append(f"request failed: {r.url} {r.failure}"),
    )
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.problems = problems
    yield page
    context.close()


def _left_behind(request: Any) -> bool:
    """The icon Chromium fetches after a page has loaded, cancelled because the test moved on to
    the next page: a race of the browser's, not a failure of the dashboard."""
    return request.url.endswith("/favicon.svg") and "ERR_ABORTED" in (request.failure or "")


def _sign_in(page: Any, base: str, email: str = EMAIL) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _screenshot(page: Any, artifacts_dir: Path, name: str) -> None:
    path = artifacts_dir / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("ADFLUX_UPDATE_DOC_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / f"{name}.png")


def _charts(page: Any) -> dict[str, dict[str, Any]]:
    page.wait_for_function(CHARTS_DRAWN)
    return {chart["id"]: chart for chart in page.evaluate(CHART_SUMMARY)}


def test_a_manager_signs_in_and_reads_overview_campaign_and_segments(
    page: Any, live_server: str, seeded: Seeded, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server)

    # Overview: KPIs in pesos and the daily trends drawn by Chart.js.
    assert page.locator("h1").first.inner_text().strip() == "Resumen"
    spend = page.locator(".kpi-value").first.inner_text()
    assert spend.startswith("$ ") and "." in spend, spend
    overview = _charts(page)
    assert {"trend-spend", "trend-applications", "trend-ctr", "trend-cpa"} <= set(overview)
    assert all(c["nonzero"] and c["width"] > 0 for c in overview.values()), overview
    _screenshot(page, artifacts_dir, "overview")

    # Campaign list → campaign page: one line per platform on each chart.
    page.click("nav.mainnav >> text=Campañas")
    page.click(f"text={seeded.campaign_name}")
    page.wait_for_url(f"{live_server}/campaigns/{seeded.campaign_id}")
    charts = _charts(page)
    assert {"campaign-spend", "campaign-clicks", "campaign-applications", "campaign-ctr"} <= set(charts)
    for chart in charts.values():
        assert chart["datasets"] == 3 and chart["points"] >= 3 * (HISTORY_DAYS - 1), chart
        assert chart["nonzero"], chart
    assert page.locator("table.platforms tbody tr").count() == 3
    assert page.locator("table.platforms .badge-active").count() == 3
    assert page.locator(".task-progress[data-task-status=succeeded]").count() == 1
    page.locator("details.platform-detail").first.scroll_into_view_if_needed()
    _screenshot(page, artifacts_dir, "campaign")

    # Actions are real forms with the CSRF token: pause, then resume.
    page.click("form >> button:has-text('Pausar')")
    assert "Pausada" in page.locator(".flash-success").inner_text()
    page.click("form >> button:has-text('Reanudar')")
    assert "Activa" in page.locator(".flash-success").inner_text()
    _charts(page)

    # Segment explorer: PCA picture and the k-search curves of both model versions.
    page.click("nav.mainnav >> text=Segmentos")
    segments = _charts(page)
    # A sample of candidates per segment plus one dataset with the segments' centres.
    assert segments["segment-scatter"]["type"] == "scatter" and segments["segment-scatter"]["datasets"] == 4
    assert segments["segment-scatter"]["points"] == 3 + 150 + 300 + 450
    assert segments["k-silhouette"]["datasets"] == 2 and segments["k-inertia"]["datasets"] == 2
    assert page.locator("article.profile").count() == 3
    _screenshot(page, artifacts_dir, "segments")

    # Alerts are counted in the menu and listed.
    page.click("nav.mainnav >> text=Alertas")
    assert "supera el objetivo" in page.locator("table.alerts").inner_text()
    _screenshot(page, artifacts_dir, "alerts")

    assert page.problems == []


def test_english_is_one_click_away_and_task_progress_updates_live(
    app: Flask, page: Any, live_server: str, seeded: Seeded, artifacts_dir: Path
) -> None:
    with app.app_context():
        run_id = task_runs.create_task_run(kind="segmentation.train").id
        task_runs.start_task_run(task_id=run_id, kind="segmentation.train")
        task_runs.report_progress(task_id=run_id, stage="k_search", percent=35)
        db.session.remove()
    _sign_in(page, live_server)
    page.click("form.language >> button:has-text('English')")
    assert page.locator("h1").first.inner_text().strip() == "Overview"
    assert page.locator(".kpi-value").first.inner_text().startswith("COP ")

    page.click("nav.mainnav >> text=Tasks")
    running = page.locator(f'.task-progress[data-task-id="{run_id}"]')
    assert running.get_attribute("data-task-status") == "running"
    assert running.locator("progress").evaluate("p => p.value") == 35
    with app.app_context():
        task_runs.report_progress(task_id=run_id, stage="final_fit", percent=80)
        task_runs.finish_task_run(task_id=run_id, result={"k": 3})
        db.session.remove()
    # The page polls the progress JSON and shows the end without a reload.
    page.wait_for_selector(f'.task-progress[data-task-id="{run_id}"][data-task-status="succeeded"]')
    assert running.locator("progress").evaluate("p => p.value") == 100
    assert "Succeeded" in running.inner_text()
    _screenshot(page, artifacts_dir, "tasks")

    assert page.problems == []


def test_an_admin_pauses_a_campaign_and_finds_it_in_the_audit_trail(
    app: Flask, page: Any, live_server: str, seeded: Seeded, artifacts_dir: Path
) -> None:
    admin_email = "admin@portal.test"
    with app.app_context():
        create_user(app, admin_email, "admin")
        db.session.remove()
    _sign_in(page, live_server, admin_email)
    page.goto(f"{live_server}/campaigns/{seeded.campaign_id}")
    page.click("form >> button:has-text('Pausar')")
    assert "Pausada" in page.locator(".flash-success").inner_text()

    page.click("nav.mainnav >> text=Auditoría")
    assert page.locator("h1").first.inner_text().strip() == "Registro de auditoría"
    newest = page.locator("table.audit > tbody > tr").first
    assert admin_email in newest.inner_text() and "campaign.pause" in newest.inner_text()
    assert newest.locator(".before").first.inner_text() == "active"
    assert newest.locator(".after").first.inner_text() == "paused"
    # The filter form narrows the list to that campaign's changes; its link leads back to it.
    page.select_option("select[name=entity_type]", "campaign")
    page.fill("input[name=entity_id]", str(seeded.campaign_id))
    page.click("form.filters >> button[type=submit]")
    page.wait_for_load_state("load")  # the page and its icon, before the next click leaves it
    rows = page.locator("table.audit > tbody > tr")
    assert rows.count() >= 2  # created by the system, then paused by the admin
    assert all(f"Campaña {seeded.campaign_id}" in text for text in rows.all_inner_texts())
    _screenshot(page, artifacts_dir, "audit")
    page.locator("table.audit > tbody > tr").first.locator("a").click()
    page.wait_for_url(f"{live_server}/campaigns/{seeded.campaign_id}")

    assert page.problems == []


def test_swagger_ui_starts_under_the_strict_content_security_policy(page: Any, live_server: str) -> None:
    response = page.goto(f"{live_server}/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "AdFlux API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 20  # every operation drawn from openapi.json
    assert page.problems == []  # no CSP violation, no failed request


def test_another_site_cannot_frame_the_dashboard(page: Any, live_server: str) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
    page.set_content(f'<iframe id="victim" src="{live_server}/login"></iframe>')
    page.wait_for_timeout(1500)
    framed = page.frame_locator("#victim").locator("input[name=password]")
    assert framed.count() == 0  # the sign-in form never renders inside another page
    assert blocked, "Chromium reports the refused framing"
    page.problems.clear()  # the refusal itself is logged as an error: that is the point
