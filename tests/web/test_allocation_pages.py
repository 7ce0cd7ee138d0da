"""The campaign page shows the allocator's moves; its allocation page switches it and compares policies."""

from __future__ import annotations

from datetime import timedelta

from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates
from adflux.services.allocation import daily, settings
from factories import make_job
from web.conftest import add_metrics, csrf_token


def _allocated_campaign(app, sandbox) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta", "tiktok"], budget_total=6_000_000, budget_daily=200_000
        )
        campaigns_service.publish_campaign(campaign_id=campaign.id)
        add_metrics(campaign.id, days=14)
        settings.configure(campaign_id=campaign.id, enabled=True, max_move=0.5, explore=0.0)
        yesterday = local_dates.today() - timedelta(days=1)  # a finished day: the comparison reads it
        day = daily.allocate_campaign(campaign_id=campaign.id, today=yesterday)
        assert day.skipped is None and day.moved
        return campaign.id


def test_the_campaign_page_lists_the_moves_explained_in_spanish(app, viewer, sandbox):
    campaign_id = _allocated_campaign(app, sandbox)
    page = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Asignación de presupuesto" in page and "Activa: el presupuesto diario se mueve" in page
    assert "/día, CPA $" in page and " frente a $" in page
    detail = viewer.get(f"/campaigns/{campaign_id}/allocation").get_data(as_text=True)
    assert "Comparación de políticas" in detail and "Reparto parejo (lo de hoy)" in detail
    # One allocated campaign: no campaign bootstrap, and the page says so instead of a day-resampled interval.
    assert "Solo 1 campaña tiene asignación" in detail and "sin intervalo" in detail
    assert "remuestreando campañas enteras" not in detail
    assert "Movimientos" in detail and detail.count("data-entry-id=") == 2  # 2 platforms x 1 broad group
    assert 'name="enabled"' not in detail  # a viewer sees no switch
    english = viewer.get(f"/campaigns/{campaign_id}/allocation?lang=en")
    assert english.status_code == 200


def test_a_manager_switches_allocation_off_and_bad_limits_are_refused(app, manager, sandbox):
    campaign_id = _allocated_campaign(app, sandbox)
    path = f"/campaigns/{campaign_id}/allocation"
    page = manager.get(path).get_data(as_text=True)
    assert 'name="enabled"' in page and "Participación mínima" in page
    token = csrf_token(manager, path)
    off = manager.post(path, data={"csrf_token": token, "min_share": "2", "max_move": "25", "explore": "3"})
    assert off.status_code == 302
    shown = manager.get(path).get_data(as_text=True)
    assert "La asignación de presupuesto está apagada" in shown and "Apagada" in shown
    with app.app_context():
        assert settings.get_settings(campaign_id=campaign_id).enabled is False
    token = csrf_token(manager, path)
    bad = manager.post(path, data={"csrf_token": token, "enabled": "1", "min_share": "90"})
    assert bad.status_code == 302
    assert "No se pudo cambiar la asignación" in manager.get(path).get_data(as_text=True)
    with app.app_context():
        assert settings.get_settings(campaign_id=campaign_id).enabled is False


def test_the_review_page_shows_the_forecast_once_a_model_exists(app, manager):
    from adflux.services import forecasts
    from automation.test_forecasts import TODAY, _history

    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta", "tiktok"], budget_total=3_000_000
        )
        campaign_id = campaign.id
    page = manager.get(f"/campaigns/{campaign_id}/review").get_data(as_text=True)
    assert "Aún no hay pronóstico" in page
    with app.app_context():
        _history()
        assert forecasts.retrain(today=TODAY)["trained"]
    page = manager.get(f"/campaigns/{campaign_id}/review").get_data(as_text=True)
    assert "Postulaciones: " in page and "intervalo del 80 %" in page and "modelo de pronóstico v1" in page
