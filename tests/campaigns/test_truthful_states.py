"""States that tell the truth: an action that reached only some platforms, a sync that failed on one."""

from __future__ import annotations

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Alert, AuditEvent
from adflux.services import alerting, health
from adflux.settings import EXTENSION_KEY
from factories import make_job


def _published(client, platforms):
    body = {"job_id": make_job().id, "platforms": platforms, "budget_total": 3_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active"
    return detail


def _platform_states(detail):
    return {pc["platform"]: pc["status"] for pc in detail["platform_campaigns"]}


def _open_alerts(rule):
    return db.session.scalars(select(Alert).where(Alert.rule == rule, Alert.status == "open")).all()


def test_a_pause_that_fails_on_one_platform_is_partial_audited_alerted_and_retried(
    client, app_ctx, sandbox, cli
):
    campaign = _published(client, ["meta", "tiktok"])
    sandbox.expire_tokens("tiktok")

    paused = client.post(f"/api/v1/campaigns/{campaign['id']}/pause")
    assert paused.status_code == 200
    body = paused.get_json()
    assert body["status"] == "partially_paused" and body["pending_action"] == "pause"
    assert _platform_states(body) == {"meta": "paused", "tiktok": "active"}
    tiktok = next(pc for pc in body["platform_campaigns"] if pc["platform"] == "tiktok")
    assert tiktok["last_error"].startswith("pause: ") and "tiktok: tiktok" not in tiktok["last_error"]
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "campaign.pause" and event.after["status"] == "partially_paused"
    assert event.after["platforms"] == {"meta": "paused", "tiktok": "active"}
    assert set(event.after["failed_platforms"]) == {"tiktok"}
    # The CLI says so and does not exit 0.
    shown = cli("campaign", "show", str(campaign["id"]))
    assert "parcialmente pausada" in shown.output and "retry-action" in shown.output

    alerting.evaluate()
    assert [a.key for a in _open_alerts("campaign_action_incomplete")] == [f"campaign:{campaign['id']}"]

    sandbox.state.expire_all["tiktok"] = False  # the token is renewed
    retried = client.post(f"/api/v1/campaigns/{campaign['id']}/retry-action").get_json()
    assert retried["status"] == "paused" and retried["pending_action"] is None
    assert _platform_states(retried) == {"meta": "paused", "tiktok": "paused"}
    alerting.evaluate()
    assert _open_alerts("campaign_action_incomplete") == []
    again = client.post(f"/api/v1/campaigns/{campaign['id']}/retry-action")
    assert again.status_code == 409


def test_an_action_that_reaches_no_platform_changes_nothing(client, app_ctx, sandbox):
    campaign = _published(client, ["meta"])
    sandbox.expire_tokens("meta")
    refused = client.post(f"/api/v1/campaigns/{campaign['id']}/pause")
    assert refused.status_code == 503 and "en ninguna plataforma" in refused.get_json()["message"]
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active" and detail["pending_action"] is None


def test_a_cli_action_that_reached_only_some_platforms_exits_non_zero(client, app_ctx, sandbox, cli):
    campaign = _published(client, ["meta", "tiktok"])
    sandbox.expire_tokens("tiktok")
    result = cli("campaign", "pause", str(campaign["id"]))
    assert result.exit_code == 1 and "parcialmente pausada" in result.output


def test_a_sync_that_fails_on_one_platform_is_a_failed_task_visible_everywhere(
    client, app, app_ctx, sandbox, cli, monkeypatch
):
    _published(client, ["meta", "google"])
    sandbox.expire_tokens("meta")
    monkeypatch.setitem(
        app.extensions, EXTENSION_KEY, app.extensions[EXTENSION_KEY].replace(alert_sync_failures=2)
    )

    accepted = client.post("/api/v1/reports/sync").get_json()
    run = client.get(accepted["status_url"]).get_json()
    assert run["status"] == "failed"
    assert run["error"].startswith("meta: ") and "meta: meta:" not in run["error"]
    assert run["result"]["failed_platforms"] == ["meta"] and "google" in run["result"]["platforms"]

    check = health.check_metrics_sync()
    assert check.status == health.FAIL and "last sync failed" in check.detail
    readiness = client.get("/readyz").get_json()
    assert readiness["status"] == "degraded"
    assert any(c["name"] == "metrics_sync" and c["status"] == "fail" for c in readiness["checks"])

    alerting.evaluate()
    assert _open_alerts("metrics_sync_failing") == []  # one failure is not yet a pattern
    result = cli("sync-metrics")
    assert result.exit_code != 0 and "meta" in result.output
    alerting.evaluate()
    assert [a.key for a in _open_alerts("metrics_sync_failing")] == ["metrics_sync"]

    sandbox.state.expire_all["meta"] = False
    assert cli("sync-metrics").exit_code == 0
    assert health.check_metrics_sync().status == health.OK
    alerting.evaluate()
    assert _open_alerts("metrics_sync_failing") == []
