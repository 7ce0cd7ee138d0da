"""The marketing manager's workspace through the Flask test client: job openings, the campaign
builder and its review, spend control on the list and the campaign page, duplicate / end / archive,
and bad input answered with the form again (never a traceback or a half-made campaign)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import Campaign
from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates
from factories import make_job, make_segments
from web.conftest import add_metrics, csrf_token


def _form(client, job_id: int, **overrides):
    data = {
        "csrf_token": csrf_token(client, "/campaigns/new"),
        "job_id": str(job_id),
        "platforms": ["meta", "google", "x", "tiktok"],
        "budget_total": "8.000.000",
        "budget_daily": "400000",
        "target_cpa": "25000",
        "objective": "traffic",
    }
    data.update(overrides)
    return data


def _count_campaigns(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Campaign))


def test_the_jobs_page_finds_bogota_without_accents_and_lists_each_openings_campaigns(app, viewer):
    with app.app_context():
        job = make_job(title="Enfermera Jefe", city="Bogotá D.C.", department="Bogotá D.C.")
        make_job(title="Vendedor", city="Medellín", department="Antioquia")
        campaign = campaigns_service.create_campaign(
            job_id=job.id, platforms=["meta"], budget_total=1_000_000
        )
        name = campaign.name
    html = viewer.get("/jobs?q=enfermeras&city=bogota").get_data(as_text=True)
    assert "Enfermera Jefe" in html and "Vendedor" not in html
    assert name in html and "Borrador" in html
    assert "1 oferta encontrada" in html
    # A viewer reads, but is offered no builder.
    assert "/campaigns/new" not in html
    html = viewer.get("/jobs?city=MEDELLIN&category=nonsense").get_data(as_text=True)
    assert "Vendedor" in html and "Enfermera Jefe" not in html


def test_a_manager_builds_a_campaign_reviews_it_and_sees_what_is_spent_where(app, manager):
    with app.app_context():
        job_id = make_job(title="Analista de datos", city="Bogotá D.C.").id
        segment_ids = [str(s.id) for s in make_segments(2)]
    page = manager.get(f"/campaigns/new?job_id={job_id}").get_data(as_text=True)
    assert "Analista de datos" in page and f"#{segment_ids[0]} Segmento 0" in page
    response = manager.post("/campaigns/new", data=_form(manager, job_id, segment_ids=segment_ids))
    assert response.status_code == 302 and "/review" in response.headers["Location"]
    review = manager.get(response.headers["Location"]).get_data(as_text=True)
    # Each platform's ad in its own shape, with the real creative text.
    for shape in ("mock-feed", "mock-search", "mock-post-x", "mock-vertical"):
        assert shape in review
    assert "Postularme" in review and "APPLY_NOW" not in review
    # Compliance in plain Spanish, no raw codes, no micros, each change said once per platform.
    for raw in ("amount_micros", "special_ad_categories", "custom_audience", "micros"):
        assert raw not in review
    assert "anuncio de empleo declarado" in review.lower()
    meta_block = review.split('id="mock-meta"')[1].split("mockup-wrap")[0]
    line = meta_block.split("compliance-line")[1].split("<details>")[0]
    assert line.count("ciudades más amplias") == 1 and meta_block.count("<li>ciudades ampliadas") == 1
    assert len(re.sub(r"<[^>]+>", " ", line).split()) < 25
    # The confirmation says what is spent where.
    confirmation = review.split('id="confirmation"')[1]
    assert "$ 8.000.000" in confirmation and "$ 2.000.000" in confirmation and "4 plataformas" in confirmation


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"budget_total": "mucho"}, "número entero de pesos"),
        ({"platforms": []}, "al menos una plataforma"),
        ({"platforms": ["meta", "myspace"]}, "al menos una plataforma"),
        ({"end_date": "2020-13-45"}, "fecha válida"),
        ({"budget_total": "15000"}, "budget_total"),
        ({"segment_ids": ["abc"]}, "Segmento desconocido"),
    ],
)
def test_bad_builder_input_shows_the_form_again_and_creates_nothing(app, manager, overrides, field_text):
    with app.app_context():
        job_id = make_job().id
    before = _count_campaigns(app)
    response = manager.post("/campaigns/new", data=_form(manager, job_id, **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_text in html and "Traceback" not in html
    assert _count_campaigns(app) == before


def test_an_identical_live_campaign_is_warned_about_before_a_second_is_made(app, manager):
    with app.app_context():
        job_id = make_job().id
    first = manager.post("/campaigns/new", data=_form(manager, job_id))
    assert first.status_code == 302
    again = manager.post("/campaigns/new", data=_form(manager, job_id))
    assert again.status_code == 200 and 'id="duplicate-warning"' in again.get_data(as_text=True)
    assert _count_campaigns(app) == 1
    anyway = manager.post("/campaigns/new", data=_form(manager, job_id, confirm_duplicate="1"))
    assert anyway.status_code == 302 and _count_campaigns(app) == 2


def test_the_builder_is_for_managers(viewer):
    assert viewer.get("/campaigns/new").status_code == 403


def test_the_list_shows_spend_applications_and_cpa_and_sorts_and_searches(app, viewer):
    with app.app_context():
        spent = campaigns_service.create_campaign(
            job_id=make_job(title="Enfermería nocturna").id, platforms=["meta"], budget_total=3_000_000
        )
        quiet = campaigns_service.create_campaign(
            job_id=make_job(title="Conductor").id, platforms=["google"], budget_total=9_000_000
        )
        add_metrics(spent.id, days=3)
        names = spent.name, quiet.name
    html = viewer.get("/campaigns?sort=spend&dir=desc").get_data(as_text=True)
    assert html.index(names[0]) < html.index(names[1])
    assert "$ 117.000" in html  # 38.000 + 39.000 + 40.000 pesos spent over three days
    html = viewer.get("/campaigns?sort=budget&dir=desc").get_data(as_text=True)
    assert html.index(names[1]) < html.index(names[0])
    html = viewer.get("/campaigns?q=ENFERMERIA").get_data(as_text=True)
    assert names[0] in html and names[1] not in html
    assert viewer.get("/campaigns?sort=nonsense").status_code == 200


def test_the_campaign_page_paces_spend_against_time_and_target_cpa(app, viewer):
    with app.app_context():
        job = make_job()
        start = local_dates.today() - timedelta(days=13)
        campaign = campaigns_service.create_campaign(
            job_id=job.id,
            platforms=["meta"],
            budget_total=700_000,
            target_cpa=1_000,
            start_date=start,
            end_date=start + timedelta(days=27),
        )
        add_metrics(campaign.id, days=14)
        campaign_id = campaign.id
    html = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    block = html.split('id="spend-control"')[1].split("</section>")[0]
    # 14 days of 38.000 + 1.000·n pesos = 623.000 of 700.000 (89 %) at half the time.
    assert "$ 623.000" in block and "89" in block and "50" in block
    assert "Gasta más rápido de lo que pasa el tiempo" in block and "Por encima de la meta" in block
    assert "Últimos 7 días" in block and re.search(r"\+\d+ %", block)


def test_a_campaign_that_starts_later_shows_scheduled_not_active(app, viewer):
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id,
            platforms=["meta"],
            budget_total=1_000_000,
            start_date=local_dates.today() + timedelta(days=1),
        )
        campaign.status = "active"
        db.session.commit()
        campaign_id = campaign.id
    html = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Programada" in html and 'badge-active"' not in html


def test_duplicate_then_archive_from_the_campaign_page(app, manager):
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta"], budget_total=1_000_000
        )
        campaign_id = campaign.id
    token = csrf_token(manager, f"/campaigns/{campaign_id}")
    response = manager.post(f"/campaigns/{campaign_id}/duplicate", data={"csrf_token": token})
    assert response.status_code == 302 and "/review" in response.headers["Location"]
    assert _count_campaigns(app) == 2
    response = manager.post(f"/campaigns/{campaign_id}/actions/archive", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "archived"


def test_a_manager_changes_a_live_campaign_and_every_platform_follows(app, manager, sandbox):
    from adflux.models import PlatformCampaign

    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta", "google"], budget_total=2_000_000
        )
        campaigns_service.publish_campaign(campaign_id=campaign.id)
        campaign_id = campaign.id
    page = manager.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert f"/campaigns/{campaign_id}/edit" in page
    token = csrf_token(manager, f"/campaigns/{campaign_id}/edit")
    response = manager.post(
        f"/campaigns/{campaign_id}/edit", data={"csrf_token": token, "budget_total": "3.000.000"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).budget_total == 3_000_000
        shares = db.session.scalars(
            select(PlatformCampaign.budget_total).where(PlatformCampaign.campaign_id == campaign_id)
        ).all()
        assert sum(shares) == 3_000_000
    bad = manager.post(f"/campaigns/{campaign_id}/edit", data={"csrf_token": token, "budget_total": "mucho"})
    assert bad.status_code == 400 and "número entero de pesos" in bad.get_data(as_text=True)


def test_segments_use_the_campaigns_ids_say_their_traits_with_shares_and_explain_metrics(app, web_as):
    with app.app_context():
        segments = make_segments(2)
        model = segments[0].model
        model.silhouette, model.davies_bouldin, model.calinski_harabasz = 0.41, 0.9, 1500.0
        db.session.commit()
        ids = [s.id for s in segments]
        campaign_id = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta"], budget_total=1_000_000, segment_ids=ids
        ).id
    viewer = web_as("viewer")
    html = viewer.get("/segments").get_data(as_text=True)
    assert f"#{ids[0]} Segmento 0" in html and f"#{ids[1]} Segmento 1" in html
    assert "Bogotá (60 %)" in html and "tecnologia (90 %)" in html
    assert "más bajo significa que los segmentos se traslapan menos" in html
    assert "/segments/train" not in html  # only admins train or activate
    assert f"#{ids[0]} Segmento 0" in viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert viewer.post("/segments/activate", data={"version": "1"}).status_code in (400, 403)
    admin = web_as("admin")
    assert "/segments/train" in admin.get("/segments").get_data(as_text=True)
    token = csrf_token(admin, "/segments")
    response = admin.post("/segments/activate", data={"csrf_token": token, "version": "1"})
    # Version 1 is already the active one: said in a message, not a crash.
    assert response.status_code == 302
    assert "flash-error" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert admin.post("/segments/activate", data={"csrf_token": token, "version": "99"}).status_code == 404


def test_the_overview_kpis_say_their_change_against_the_previous_period(app, viewer):
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta"], budget_total=5_000_000
        )
        add_metrics(campaign.id, days=14)
    html = viewer.get("/?days=7").get_data(as_text=True)
    # Spend per day grows by 1.000 pesos: 7 days of 45.000–51.000 (336.000) against 38.000–44.000
    # (287.000): +17 %.
    assert "+17 % frente al periodo anterior" in html
    assert html.count("frente al periodo anterior") == 7


def test_hostile_strings_are_escaped_on_the_workspace_pages(app, web_as):
    hostile = '<script>alert("x")</script>'
    with app.app_context():
        job = make_job(title=hostile, company=hostile)
        segments = make_segments(1)
        segments[0].name = hostile
        db.session.commit()
        campaign_id = campaigns_service.create_campaign(
            job_id=job.id, platforms=["meta", "x"], budget_total=2_000_000, segment_ids=[segments[0].id]
        ).id
        job_id = job.id
    admin = web_as("admin")
    for path in (
        "/jobs",
        f"/campaigns/new?job_id={job_id}",
        f"/campaigns/{campaign_id}/review",
        f"/campaigns/{campaign_id}",
        "/campaigns?q=alert",
        "/segments",
    ):
        html = admin.get(path).get_data(as_text=True)
        assert hostile not in html and "&lt;script&gt;" in html, path


def test_the_builder_says_where_a_small_segment_is_not_offered_and_refuses_it_there(app, manager):
    with app.app_context():
        job_id = make_job(title="Cajero", city="Cali").id
        tiny, small = make_segments(2)
        tiny.size, small.size = 60, 640
        db.session.commit()
        tiny_id, small_id = str(tiny.id), str(small.id)
    page = manager.get(f"/campaigns/new?job_id={job_id}").get_data(as_text=True)
    row = page.split(f'value="{small_id}"')[1].split("</th>")[0]
    assert "No se ofrece en TikTok: necesita al menos 1.000 personas" in row and "Meta" not in row
    # Below every platform's minimum: not offered at all.
    assert re.search(rf'value="{tiny_id}"\s+disabled', page)
    refused = manager.post("/campaigns/new", data=_form(manager, job_id, segment_ids=[small_id]))
    assert refused.status_code == 400 and _count_campaigns(app) == 0
    assert "no está disponible en TikTok: 640 candidatos" in refused.get_data(as_text=True)
    fine = _form(manager, job_id, segment_ids=[small_id], platforms=["meta", "google", "x"])
    assert manager.post("/campaigns/new", data=fine).status_code == 302
