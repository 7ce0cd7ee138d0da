"""Dashboard pages through the Flask test client: sign-in, rendering, escaping, actions, languages.

Data is set up inside `with app.app_context()` blocks and requests are made outside them: a request
made while a test holds an app context would share that context's `g` (the signed-in user cache
and the CSRF token) with every other request of the test.
"""

from __future__ import annotations

import json
import re

import pytest

from adflux.extensions import db
from adflux.models import Alert, Campaign, SegmentationModel, TaskRun
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates, task_runs
from factories import make_job, make_segments
from web.conftest import add_metrics, csrf_token, k_search_rows

HOSTILE = '<script>alert("x")</script>'
PAGES = ["/", "/campaigns", "/segments", "/tasks", "/alerts"]


def _campaign(
    *, title: str = "Analista de datos", platforms=("meta", "google"), segments: int = 2
) -> Campaign:
    job = make_job(title=title)
    active = db.session.query(SegmentationModel).filter_by(status="active").one_or_none()
    segs = active.segments[:segments] if active else make_segments(segments)
    return campaigns_service.create_campaign(
        job_id=job.id,
        platforms=list(platforms),
        budget_total=4_000_000,
        budget_daily=200_000,
        segment_ids=[s.id for s in segs],
    )


def _chart_specs(html: str) -> dict[str, dict]:
    specs = re.findall(r'<script type="application/json" id="([^"]+)-spec">(.*?)</script>', html, re.S)
    return {name: json.loads(body) for name, body in specs}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_anonymous_people_to_sign_in(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_empty_for_a_viewer(viewer, path):
    response = viewer.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="es-CO">' in html and "/assets/css/adflux.css" in html


def test_the_overview_shows_kpis_and_daily_trends_in_pesos(app, viewer):
    with app.app_context():
        campaign = _campaign()
        add_metrics(campaign.id, days=10)
        name = campaign.name
    html = viewer.get("/?days=30").get_data(as_text=True)
    specs = _chart_specs(html)
    assert {"trend-spend", "trend-applications", "trend-ctr", "trend-cpa", "platform-spend"} <= set(specs)
    assert len(specs["trend-spend"]["labels"]) == 30
    spend = specs["trend-spend"]["datasets"][0]["data"]
    assert spend[:20] == [None] * 20 and all(v > 0 for v in spend[20:])  # days without rows are gaps
    # Whole pesos with Colombian grouping: "$ 1.234.567".
    assert re.search(r"\$ \d{1,3}(\.\d{3})+<", html)
    assert name in html
    assert "/assets/vendor/chartjs/chart.umd.js" in html


def test_a_bad_date_range_falls_back_with_a_message(viewer):
    html = viewer.get("/?since=2030-01-10&until=2030-01-01").get_data(as_text=True)
    assert "flash-error" in html


def test_the_campaign_list_filters_by_status(app, viewer):
    with app.app_context():
        draft = _campaign(title="Cajero").name
        other = _campaign(title="Bodeguero")
        campaigns_service.archive_campaign(campaign_id=other.id)
        other = other.name
    html = viewer.get("/campaigns?status=draft").get_data(as_text=True)
    assert draft in html and other not in html
    assert viewer.get("/campaigns?status=nonsense").status_code == 404


def test_the_campaign_page_shows_platforms_creatives_compliance_and_charts(app, viewer):
    with app.app_context():
        campaign = _campaign()
        add_metrics(campaign.id, days=7)
        campaign_id, headline = campaign.id, campaign.platform_campaigns[0].creatives[0].headline
    html = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    specs = _chart_specs(html)
    assert {"campaign-spend", "campaign-clicks", "campaign-applications", "campaign-ctr"} <= set(specs)
    assert {d["key"] for d in specs["campaign-spend"]["datasets"]} == {"meta", "google"}
    assert "Meta" in html and "Google Ads" in html
    assert headline.replace("&", "&amp;") in html
    # Compliance: one plain line per platform, the changes folded beneath it, no platform codes.
    assert html.count('class="compliance-line') == 2 and "special_ad_categories" not in html
    # A viewer sees no action buttons.
    assert "/actions/publish" not in html


def test_a_missing_campaign_is_a_404_page(viewer):
    response = viewer.get("/campaigns/424242")
    assert response.status_code == 404 and "<html" in response.get_data(as_text=True)


def test_hostile_strings_are_escaped_everywhere(app, viewer):
    with app.app_context():
        campaign = _campaign(title=HOSTILE)
        add_metrics(campaign.id, days=3)
        segment = campaign.segments[0]
        segment.name = HOSTILE
        segment.profile = {"top_cities": [{"value": HOSTILE, "share": 0.5}], HOSTILE: HOSTILE}
        db.session.add(
            Alert(rule="cpa_above_target", key=HOSTILE, message=HOSTILE, severity="warning", status="open")
        )
        run = task_runs.create_task_run(kind="campaign.publish", subject=("campaign", campaign.id))
        task_runs.fail_task_run(task_id=run.id, error=HOSTILE)
        db.session.commit()
        campaign_id = campaign.id
    for path in ["/", "/campaigns", f"/campaigns/{campaign_id}", "/segments", "/tasks", "/alerts"]:
        html = viewer.get(path).get_data(as_text=True)
        assert HOSTILE not in html, path
        assert "&lt;script&gt;" in html, path
    # Inside chart data the string is JSON with <, > escaped, so it cannot close the script tag.
    assert "\\u003cscript\\u003e" in viewer.get("/segments").get_data(as_text=True)


def test_a_manager_publishes_from_the_campaign_page_and_sees_the_task(app, manager, sandbox):
    with app.app_context():
        campaign_id = _campaign(platforms=("meta",), segments=1).id
    # Publishing goes through the review page, which confirms what will be spent where.
    page = manager.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert f"/campaigns/{campaign_id}/review" in page and "/actions/publish" not in page
    review = manager.get(f"/campaigns/{campaign_id}/review").get_data(as_text=True)
    assert f"/campaigns/{campaign_id}/actions/publish" in review
    token = csrf_token(manager, f"/campaigns/{campaign_id}/review")
    response = manager.post(f"/campaigns/{campaign_id}/actions/publish", data={"csrf_token": token})
    assert response.status_code == 302
    html = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-success" in html and "task-progress" in html
    # The eager path has finished by now: the banner says so rather than "started".
    assert "La publicación terminó" in html
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "active"
    # Now live: pause is offered, publish is not.
    assert "/actions/pause" in html and "/actions/publish" not in html


def test_a_pause_that_missed_a_platform_is_shown_partial_and_retried_from_the_page(app, manager, sandbox):
    with app.app_context():
        campaign_id = _campaign(platforms=("meta", "tiktok"), segments=1).id
        campaigns_service.publish_campaign(campaign_id=campaign_id)
    sandbox.expire_tokens("tiktok")
    token = csrf_token(manager, f"/campaigns/{campaign_id}")
    paused = manager.post(f"/campaigns/{campaign_id}/actions/pause", data={"csrf_token": token})
    html = manager.get(paused.headers["Location"]).get_data(as_text=True)
    assert "Parcialmente pausada" in html and "Reintentar en las plataformas que faltan" in html
    assert f"/campaigns/{campaign_id}/actions/retry_action" in html
    sandbox.state.expire_all["tiktok"] = False
    retried = manager.post(f"/campaigns/{campaign_id}/actions/retry_action", data={"csrf_token": token})
    html = manager.get(retried.headers["Location"]).get_data(as_text=True)
    assert "/actions/retry_action" not in html
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "paused" and campaign.pending_action is None


def test_actions_need_the_csrf_token_and_the_manager_role(app, viewer, manager):
    with app.app_context():
        campaign_id = _campaign(platforms=("meta",), segments=1).id
    assert manager.post(f"/campaigns/{campaign_id}/actions/publish").status_code == 400
    token = csrf_token(viewer, f"/campaigns/{campaign_id}")
    refused = viewer.post(f"/campaigns/{campaign_id}/actions/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "draft"


def test_an_action_the_state_machine_refuses_is_explained(app, manager):
    with app.app_context():
        campaign_id = _campaign(platforms=("meta",), segments=1).id
    token = csrf_token(manager, f"/campaigns/{campaign_id}")
    response = manager.post(f"/campaigns/{campaign_id}/actions/resume", data={"csrf_token": token})
    html = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "No es posible mientras la campaña está en estado «Borrador»" in html
    unknown = manager.post(f"/campaigns/{campaign_id}/actions/explode", data={"csrf_token": token})
    assert unknown.status_code == 404


def test_the_segment_explorer_draws_pca_profiles_and_k_curves(app, viewer):
    with app.app_context():
        segments = make_segments(3, version=1, status="retired")
        make_segments(2, version=2)
        points = [{"x": i / 10, "y": -i / 10, "segment": i % 2} for i in range(10)]
        for version, best in ((1, 3), (2, 2)):
            model = db.session.query(SegmentationModel).filter_by(version=version).one()
            model.metrics = {"k_search": k_search_rows(best)}
            if version == 2:
                model.metrics["pca"] = {"explained_variance_ratio": [0.31, 0.18], "points": points}
            model.silhouette = 0.41
        for i, segment in enumerate(segments):
            segment.pca_x, segment.pca_y = i * 1.5, -i
        db.session.commit()
    html = viewer.get("/segments").get_data(as_text=True)
    specs = _chart_specs(html)
    assert [d["label"] for d in specs["k-silhouette"]["datasets"]] == ["Versión 2", "Versión 1"]
    assert specs["k-silhouette"]["labels"] == list(range(2, 9))
    # Version 2 kept a candidate sample: points per segment over the segments' centres.
    scatter = specs["segment-scatter"]
    assert scatter["type"] == "scatter" and scatter["axes"] == {"x": "PC1 (31 %)", "y": "PC2 (18 %)"}
    assert scatter["datasets"][0]["keys"] == [0, 1]
    assert [len(d["data"]) for d in scatter["datasets"]] == [2, 5, 5]
    assert "Bogotá" in html  # the active model's profile
    # Version 1 has no sample: its centres are drawn as bubbles sized by segment.
    older = _chart_specs(viewer.get("/segments?version=1").get_data(as_text=True))["segment-scatter"]
    assert older["type"] == "bubble" and len(older["datasets"]) == 3
    assert viewer.get("/segments?version=99").status_code == 404


def test_task_progress_is_polled_as_json(app, viewer):
    with app.app_context():
        run_id = task_runs.create_task_run(kind="metrics.sync").id
        task_runs.report_progress(task_id=run_id, stage="meta: 1/2", percent=50)
    html = viewer.get("/tasks").get_data(as_text=True)
    assert f'data-task-id="{run_id}"' in html
    body = viewer.get(f"/tasks/progress.json?id={run_id}&id=unknown").get_json()
    assert body["tasks"] == [
        {
            "id": run_id,
            "status": "pending",
            "status_label": "Pendiente",
            "progress": 50.0,
            "stage": "Meta: 1 de 2",
            "error": None,
            "finished": False,
            "finished_at": None,
        }
    ]


def test_the_progress_json_wants_a_session(anon_client):
    response = anon_client.get("/tasks/progress.json?id=x", headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_alerts_are_listed_newest_first_and_open_ones_counted_in_the_menu(app, viewer):
    with app.app_context():
        db.session.add_all(
            [
                Alert(rule="api_error_rate", message="Errores altos", severity="critical", status="open"),
                Alert(rule="queue_backlog", message="Cola larga", severity="warning", status="resolved"),
            ]
        )
        db.session.commit()
    html = viewer.get("/alerts").get_data(as_text=True)
    assert html.index("Cola larga") < html.index("Errores altos")
    assert re.search(r'Alertas\s*<span class="count">1</span>', html)
    assert "Cola larga" not in viewer.get("/alerts?status=open").get_data(as_text=True)


def test_the_language_switch_changes_text_and_number_format(app, viewer):
    with app.app_context():
        add_metrics(_campaign().id, days=3)
    spanish = viewer.get("/").get_data(as_text=True)
    assert "Resumen" in spanish and "Inversión" in spanish
    token = csrf_token(viewer, "/")
    response = viewer.post("/language", data={"locale": "en", "next": "/campaigns", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/campaigns"
    english = viewer.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Overview" in english and "Spend" in english
    assert re.search(r"COP \d{1,3}(,\d{3})+<", english)
    off_site = viewer.post(
        "/language", data={"locale": "es_CO", "next": "//evil.example", "csrf_token": token}
    )
    assert off_site.headers["Location"] == "/"
    assert viewer.post("/language", data={"locale": "xx", "csrf_token": token}).status_code == 400


def test_times_are_shown_in_bogota(app, viewer):
    from datetime import UTC, datetime

    with app.app_context():
        run_id = task_runs.create_task_run(kind="metrics.sync").id
        db.session.get(TaskRun, run_id).created_at = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
        db.session.commit()
    html = viewer.get("/tasks").get_data(as_text=True)
    assert "10:30:00" in html  # 15:30 UTC is 10:30 in Bogotá (UTC−5)


def test_a_failed_platform_shows_its_error_and_offers_retry(app, manager, sandbox):
    sandbox.expire_tokens("google")
    with app.app_context():
        campaign_id = _campaign(platforms=("meta", "google"), segments=1).id
        campaigns_service.publish_campaign(campaign_id=campaign_id)
    html = manager.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Parcialmente activa" in html and "error-text" in html and "<strong>auth</strong>" in html
    assert f"/campaigns/{campaign_id}/actions/retry_failed" in html
    sandbox.state.expire_all["google"] = False
    token = csrf_token(manager, f"/campaigns/{campaign_id}")
    manager.post(f"/campaigns/{campaign_id}/actions/retry_failed", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "active"


def test_a_campaign_that_starts_later_has_no_results_yet(app, viewer):
    from datetime import timedelta

    with app.app_context():
        job = make_job()
        start = local_dates.today() + timedelta(days=10)
        campaign_id = campaigns_service.create_campaign(
            job_id=job.id, platforms=["meta"], budget_total=1_000_000, start_date=start
        ).id
    response = viewer.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200 and "Aún no hay resultados" in response.get_data(as_text=True)


def test_results_dated_after_today_by_the_sandbox_clock_are_shown(app, viewer):
    # `adflux demo` moves the sandbox's clock weeks ahead: the pages follow the newest synced day.
    with app.app_context():
        campaign_id = _campaign().id
        add_metrics(campaign_id, days=10, ahead=9)
    overview = _chart_specs(viewer.get("/").get_data(as_text=True))["trend-spend"]["datasets"][0]["data"]
    assert len(overview) == 30 and all(overview[-10:])
    campaign = _chart_specs(viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True))
    assert all(v for d in campaign["campaign-spend"]["datasets"] for v in d["data"][-10:])
