"""The rules pages: the list with its switch, a backtest on real metrics, and the decision log, in Spanish."""

from __future__ import annotations

from adflux.extensions import db
from adflux.models import Campaign
from adflux.services import campaigns as campaigns_service
from adflux.services.rules import evaluation, store
from factories import make_job, make_segments
from web.conftest import add_metrics, csrf_token


def _campaign_with_metrics() -> int:
    campaign = campaigns_service.create_campaign(
        job_id=make_job().id,
        platforms=["meta", "google"],
        budget_total=4_000_000,
        budget_daily=200_000,
        target_cpa=9_000,
        segment_ids=[s.id for s in make_segments(2)],
    )
    add_metrics(campaign.id, days=21, ahead=-1)
    return campaign.id


def test_rules_page_lists_a_rule_in_spanish_and_a_manager_enables_it(app, manager):
    with app.app_context():
        campaign_id = _campaign_with_metrics()
        rule = store.add_rule(name="Freno de pérdidas", campaign_id=campaign_id, template="stop_loss")
        rule_id = rule.id
    html = manager.get("/rules").get_data(as_text=True)
    assert "Freno de pérdidas" in html and "Pausar" in html and "CPA &gt; $ 13.500 (7 días)" in html
    assert "con rezago corregido" in html
    assert "Postulaciones que cuenta" in html and "Las que informa cada plataforma" in html
    token = csrf_token(manager, "/rules")
    response = manager.post(f"/rules/{rule_id}/enabled", data={"enabled": "1", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert store.get_rule(rule_id).enabled


def test_backtest_page_shows_what_the_rule_would_have_done_and_the_pacing(app, viewer):
    with app.app_context():
        campaign_id = _campaign_with_metrics()
        rule_id = store.add_rule(name="Freno", campaign_id=campaign_id, template="stop_loss").id
    html = viewer.get(f"/rules/{rule_id}/backtest?days=14").get_data(as_text=True)
    assert "Habría ahorrado" in html and "Postulaciones (maduras)" in html
    assert "Presupuesto diario de hoy" in html


def test_decision_log_shows_the_numbers_behind_each_decision(app, viewer):
    with app.app_context():
        campaign_id = _campaign_with_metrics()
        spec = {
            "conditions": [{"metric": "spend", "op": ">", "value": 1, "window": 3}],
            "action": {"kind": "notify"},
        }
        rule = store.add_rule(name="Aviso diario", campaign_id=campaign_id, spec=spec)
        store.set_enabled(rule_id=rule.id, enabled=True)
        db.session.get(Campaign, campaign_id).status = "active"  # as publishing would leave it
        assert len(evaluation.evaluate_campaign(campaign_id=campaign_id)) == 4
        db.session.commit()
    html = viewer.get("/rules/decisions").get_data(as_text=True)
    assert "Aviso diario" in html and "Notificar" in html and "Registrada" in html and "Inversión $ " in html
    assert viewer.get("/rules/999/backtest").status_code == 404


def test_rules_page_says_when_a_rule_counts_first_hand_applications(app, viewer):
    with app.app_context():
        store.add_rule(
            name="Propias",
            level="ad_group",
            spec={"conditions": [{"metric": "spend", "op": ">", "value": 1}], "action": {"kind": "notify"}},
            applications_source="first_hand",
        )
    html = viewer.get("/rules").get_data(as_text=True)
    assert 'data-count="first_hand"' in html and "Propias (las que reporta el portal)" in html
