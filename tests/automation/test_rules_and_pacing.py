"""Rules and pacing end to end: a campaign published to the sandbox, its metrics synced, rules on them."""

from __future__ import annotations

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AuditEvent, OptimizationDecision
from adflux.services.rules import evaluation, pacing, store
from sync_helpers import synced_campaign


def test_a_template_rule_starts_disabled_and_its_backtest_replays_the_campaigns_history(
    client, app_ctx, sandbox
):
    campaign, today = synced_campaign(client, sandbox, days=21)
    response = client.post(
        "/api/v1/rules", json={"name": "Stop-loss", "campaign_id": campaign["id"], "template": "stop_loss"}
    )
    assert response.status_code == 201, response.get_json()
    rule = response.get_json()
    assert rule["enabled"] is False
    assert rule["spec"]["cpa_mode"] == "lag_aware"
    assert rule["spec"]["conditions"][1] == {"metric": "cpa", "op": ">", "value": 30_000.0, "window": 7}

    # Through the service: the sandbox's clock runs ahead of the real one the API uses.
    run = store.backtest_rule(rule_id=rule["id"], campaign_id=campaign["id"], days=14, today=today)
    assert run.result.spend > 0 and run.result.applications > 0
    assert run.result.spend_saved >= 0
    assert len(run.entity_ids) == 4 and run.first_day < today
    assert all(d.kind == "pause" for d in run.result.decisions)
    api = client.get(f"/api/v1/rules/{rule['id']}/backtest?campaign_id={campaign['id']}&days=14")
    assert api.status_code == 200 and set(api.get_json()) >= {"spend", "spend_saved", "decisions"}


def test_an_enabled_rule_acts_after_the_sync_logs_its_numbers_and_respects_its_cooldown(
    client, app_ctx, sandbox
):
    campaign, today = synced_campaign(client, sandbox, days=10)
    spec = {
        "conditions": [{"metric": "spend", "op": ">", "value": 1, "window": 3}],
        "action": {"kind": "notify"},
        "cooldown_days": 2,
    }
    rule = client.post("/api/v1/rules", json={"name": "Aviso", "campaign_id": campaign["id"], "spec": spec})
    rule_id = rule.get_json()["id"]
    assert evaluation.run_after_sync(today=today)["rule_decisions"] == 0  # disabled: nothing happens
    assert client.patch(f"/api/v1/rules/{rule_id}", json={"enabled": True}).get_json()["enabled"]

    first = evaluation.run_after_sync(today=today)
    assert first["rule_decisions"] == 4  # 2 platforms x 2 segments
    log = client.get(f"/api/v1/rules/decisions?campaign_id={campaign['id']}").get_json()
    assert {row["status"] for row in log} == {"recorded"}
    assert all(row["evidence"]["spend"] > 1 for row in log)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rules.notify")) is not None
    assert evaluation.run_after_sync(today=today)["rule_decisions"] == 0  # cooldown


def test_budget_decisions_reach_the_platform_through_the_in_place_path(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=5)
    spec = {
        "conditions": [{"metric": "spend", "op": ">", "value": 1, "window": 3}],
        "action": {"kind": "budget", "percent": 10},
    }
    rule_id = client.post(
        "/api/v1/rules", json={"name": "Sube", "campaign_id": campaign["id"], "spec": spec}
    ).get_json()["id"]
    client.patch(f"/api/v1/rules/{rule_id}", json={"enabled": True})
    evaluation.run_after_sync(today=today)
    rows = db.session.scalars(select(OptimizationDecision)).all()
    assert rows and all(r.status == "applied" for r in rows)


def test_pacing_reports_plan_and_actual_and_warns_without_an_end_date(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=7)
    state = pacing.pacing_state(campaign_id=campaign["id"], today=today)
    assert not state.enabled and state.mode == "even"
    assert state.plan.spent > 0 and state.plan.remaining == 6_000_000 - state.plan.spent
    assert 0 < state.plan.daily_budget <= state.plan.remaining
    if campaign.get("end_date") is None:
        assert "no_end_date" in state.plan.warnings
    api = client.get(f"/api/v1/pacing/{campaign['id']}").get_json()
    assert api["enabled"] is False and api["budget_total"] == 6_000_000
    configured = client.put(f"/api/v1/pacing/{campaign['id']}", json={"mode": "front_loaded"}).get_json()
    assert configured["enabled"] is True and configured["mode"] == "front_loaded"
    bad = client.put(f"/api/v1/pacing/{campaign['id']}", json={"mode": "fast"})
    assert bad.status_code == 422


def test_bad_rules_are_refused_with_a_json_message(client, app_ctx):
    bad_metric = client.post(
        "/api/v1/rules",
        json={
            "name": "x",
            "spec": {"conditions": [{"metric": "roas", "op": ">", "value": 1}], "action": {"kind": "pause"}},
        },
    )
    assert bad_metric.status_code == 422 and "metric" in str(bad_metric.get_json()["errors"])
    no_campaign = client.post("/api/v1/rules", json={"name": "x", "template": "stop_loss"})
    assert no_campaign.status_code in (400, 422) and "campaña" in no_campaign.get_json()["message"]
    assert client.get("/api/v1/rules/999/backtest?campaign_id=1").status_code == 404
    assert client.get("/api/v1/pacing/999").status_code == 404
