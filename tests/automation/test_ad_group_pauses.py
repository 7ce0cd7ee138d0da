"""Rules pause and resume single ad groups on the platforms, through the in-place update path."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AdGroup, AuditEvent, OptimizationDecision, PlatformCampaign
from adflux.services.campaigns import delivery
from adflux.services.rules import evaluation
from factories import make_job, make_segments
from sync_helpers import synced_campaign

KIND = {"meta": ("adset", "status", "ACTIVE"), "tiktok": ("adgroup", "operation_status", "ENABLE")}


def _on_platform(sandbox, campaign_id: int) -> dict[int, bool]:
    """Per ad group: switched on at its platform (the sandbox's own object)."""
    out = {}
    for pc in db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign_id)):
        kind, field, on = KIND[pc.platform]
        for group in pc.ad_groups:
            out[group.id] = sandbox.state.get(pc.platform, kind, group.external_id)[field] == on
    return out


def _rule(client, campaign_id: int, kind: str, value: float = 1) -> int:
    spec = {
        "conditions": [{"metric": "spend", "op": ">", "value": value, "window": 3}],
        "action": {"kind": kind},
        "cooldown_days": 1,
    }
    rule = client.post("/api/v1/rules", json={"name": f"R {kind}", "campaign_id": campaign_id, "spec": spec})
    assert rule.status_code == 201, rule.get_json()
    rule_id = rule.get_json()["id"]
    assert client.patch(f"/api/v1/rules/{rule_id}", json={"enabled": True}).status_code == 200
    return rule_id


def test_a_pause_rule_pauses_each_ad_group_on_its_platform_and_a_campaign_resume_keeps_them_paused(
    client, app_ctx, sandbox
):
    campaign, today = synced_campaign(client, sandbox, days=6)
    groups = [g["id"] for pc in campaign["platform_campaigns"] for g in pc["ad_groups"]]
    assert _on_platform(sandbox, campaign["id"]) == dict.fromkeys(groups, True)
    pause = _rule(client, campaign["id"], "pause")

    assert evaluation.run_after_sync(today=today)["rule_decisions"] == 4
    decisions = db.session.scalars(select(OptimizationDecision)).all()
    assert {(d.action, d.status) for d in decisions} == {("pause", "applied")}
    assert _on_platform(sandbox, campaign["id"]) == dict.fromkeys(groups, False)
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert {g["status"] for pc in detail["platform_campaigns"] for g in pc["ad_groups"]} == {"paused"}
    assert {pc["update_status"] for pc in detail["platform_campaigns"]} == {"applied"}
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"ad_group.pause", "platform_campaign.update_applied", "rules.pause"} <= actions
    # Already paused: a later evaluation takes no second decision and sends nothing.
    assert evaluation.run_after_sync(today=today + timedelta(days=1))["rule_decisions"] == 0

    # The manager pauses and resumes the whole campaign: what the rule paused stays paused.
    delivery.pause_campaign(campaign_id=campaign["id"])
    delivery.resume_campaign(campaign_id=campaign["id"])
    assert _on_platform(sandbox, campaign["id"]) == dict.fromkeys(groups, False)

    client.patch(f"/api/v1/rules/{pause}", json={"enabled": False})
    _rule(client, campaign["id"], "resume")
    tomorrow = today + timedelta(days=1)  # past the pause's one-day cooldown
    assert evaluation.run_after_sync(today=tomorrow)["rule_decisions"] == 4
    assert _on_platform(sandbox, campaign["id"]) == dict.fromkeys(groups, True)
    assert set(db.session.scalars(select(AdGroup.status))) == {"active"}


def test_a_platform_that_refuses_the_pause_leaves_it_failed_and_says_so(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=6)
    sandbox.expire_tokens("tiktok")  # TikTok refuses every call until the token is renewed
    _rule(client, campaign["id"], "pause")
    evaluation.run_after_sync(today=today)
    pcs = {pc.platform: pc for pc in db.session.scalars(select(PlatformCampaign))}
    assert pcs["meta"].update_status == "applied"
    assert pcs["tiktok"].update_status == "failed" and pcs["tiktok"].update_error
    on = _on_platform(sandbox, campaign["id"])
    assert [on[g.id] for g in pcs["tiktok"].ad_groups] == [True, True]  # nothing claimed that did not happen
    assert [on[g.id] for g in pcs["meta"].ad_groups] == [False, False]
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    tiktok = next(pc for pc in detail["platform_campaigns"] if pc["platform"] == "tiktok")
    assert tiktok["update_status"] == "failed" and {g["status"] for g in tiktok["ad_groups"]} == {"paused"}


def test_a_platform_campaign_rule_pauses_every_ad_group_of_that_platform(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=6)
    spec = {
        "conditions": [{"metric": "spend", "op": ">", "value": 1, "window": 3}],
        "action": {"kind": "pause"},
    }
    body = {
        "name": "Por plataforma",
        "campaign_id": campaign["id"],
        "level": "platform_campaign",
        "spec": spec,
    }
    rule = client.post("/api/v1/rules", json=body)
    assert rule.status_code == 201, rule.get_json()
    client.patch(f"/api/v1/rules/{rule.get_json()['id']}", json={"enabled": True})

    assert evaluation.run_after_sync(today=today)["rule_decisions"] == 2  # one per platform
    assert set(_on_platform(sandbox, campaign["id"]).values()) == {False}
    decisions = db.session.scalars(select(OptimizationDecision)).all()
    assert {(d.ad_group_id, d.status) for d in decisions} == {(None, "applied")}


def test_an_ad_group_paused_before_publishing_is_published_paused(client, app_ctx, sandbox):
    from adflux.services.campaigns.ad_group_status import set_ad_group_status

    body = {
        "job_id": make_job().id,
        "platforms": ["meta", "tiktok"],
        "budget_total": 6_000_000,
        "segment_ids": [s.id for s in make_segments(2)],
    }
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    first = db.session.scalars(select(AdGroup).order_by(AdGroup.id)).first()
    assert first is not None
    result = set_ad_group_status(
        db.session, status="paused", reason="prueba", actor="ana", ad_group_ids=[first.id]
    )
    assert result.changed and not result.queued  # nothing at the platform yet: publishing sends it
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    on = _on_platform(sandbox, campaign["id"])
    assert on[first.id] is False and sum(on.values()) == len(on) - 1


def test_a_resume_rule_leaves_a_group_whose_segment_was_removed_paused(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=6)
    groups = [g["id"] for pc in campaign["platform_campaigns"] for g in pc["ad_groups"]]
    removed_segment = campaign["platform_campaigns"][0]["ad_groups"][0]["segment_id"]
    answer = client.patch(
        f"/api/v1/campaigns/{campaign['id']}", json={"remove_segment_ids": [removed_segment]}
    )
    assert answer.status_code in (200, 202), answer.get_json()
    removed = {g.id for g in db.session.scalars(select(AdGroup).where(AdGroup.status == "removed"))}
    assert removed and removed < set(groups)
    assert not any(on for group, on in _on_platform(sandbox, campaign["id"]).items() if group in removed)
    _rule(client, campaign["id"], "resume")

    evaluation.run_after_sync(today=today)

    resumed = {
        d.ad_group_id for d in db.session.scalars(select(OptimizationDecision)) if d.action == "resume"
    }
    assert not resumed & removed
    on = _on_platform(sandbox, campaign["id"])
    assert not any(on[group] for group in removed)
    assert {g.status for g in db.session.scalars(select(AdGroup).where(AdGroup.id.in_(removed)))} == {
        "removed"
    }
