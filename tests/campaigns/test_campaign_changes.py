"""Live campaigns changed in place: validation, idempotency, partial failure, truthful states.

Eager Celery (the default test app) runs the update task inline; the adapters talk HTTP to the
sandbox on loopback.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AuditEvent, Campaign, MetricDaily, PlatformCampaign
from adflux.services.campaigns import changes
from adflux.services.errors import InvalidTransition, ValidationFailed
from adflux.services.local_dates import today
from factories import make_job

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]


def _published(client, platforms):
    body = {
        "job_id": make_job().id,
        "platforms": platforms,
        "budget_total": 3_000_000,
        "budget_daily": 100_000,
    }
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["status"] == "active"
    return db.session.get(Campaign, campaign["id"])


def _pcs(campaign_id):
    db.session.expire_all()
    rows = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign_id))
    return {pc.platform: pc for pc in rows}


def test_budget_and_end_date_reach_all_five_platforms_and_the_same_change_twice_changes_once(
    client, app_ctx, sandbox
):
    campaign = _published(client, PLATFORMS)
    end = today() + timedelta(days=20)
    requests_before = dict(sandbox.state.requests)

    result = changes.change_campaign(
        db.session, campaign.id, actor="ana@example.co", budget_total=5_000_000, budget_daily=150_000,
        end_date=end, platform_weights={"meta": 2},
    )  # fmt: skip
    assert set(result.queued) == set(PLATFORMS)
    pcs = _pcs(campaign.id)
    assert {pc.update_status for pc in pcs.values()} == {"applied"}
    assert sum(pc.budget_total for pc in pcs.values()) == 5_000_000
    assert pcs["meta"].budget_total in (5_000_000 // 3, 5_000_000 // 3 + 1)  # weight 2 of 6
    meta_adsets = [sandbox.state.get("meta", "adset", g.external_id) for g in pcs["meta"].ad_groups]
    assert sum(int(a["daily_budget"]) for a in meta_adsets) == pcs["meta"].budget_daily
    tiktok = sandbox.state.get("tiktok", "campaign", pcs["tiktok"].external_campaign_id)
    assert int(tiktok["budget"]) == pcs["tiktok"].budget_total
    x_items = [sandbox.state.get("x", "line_item", g.external_id) for g in pcs["x"].ad_groups]
    assert x_items and all(
        item["end_time"].startswith(end.isoformat()) for item in x_items
    )  # X: per line item
    sent = {p: sandbox.state.requests[p] - requests_before.get(p, 0) for p in PLATFORMS}
    assert all(n >= 1 for n in sent.values())

    again = changes.change_campaign(
        db.session, campaign.id, actor="ana@example.co", budget_total=5_000_000, budget_daily=150_000,
        end_date=end, platform_weights={"meta": 2},
    )  # fmt: skip
    assert again.unchanged and again.queued == {}
    assert {p: sandbox.state.requests[p] - requests_before.get(p, 0) for p in PLATFORMS} == sent
    assert {pc.update_revision for pc in _pcs(campaign.id).values()} == {1}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.change")).all()
    assert len(events) == 1 and events[0].actor == "ana@example.co"


def test_a_platform_that_refuses_is_failed_while_the_others_are_applied(client, app_ctx, sandbox):
    campaign = _published(client, ["meta", "tiktok"])
    sandbox.expire_tokens("tiktok")

    changes.change_campaign(db.session, campaign.id, actor="ana@example.co", budget_total=4_000_000)
    pcs = _pcs(campaign.id)
    assert pcs["meta"].update_status == "applied"
    assert pcs["tiktok"].update_status == "failed" and pcs["tiktok"].update_error
    assert pcs["tiktok"].applied_revision == 0
    assert changes.update_summary(db.session.get(Campaign, campaign.id)) == {
        "applied": ["meta"],
        "failed": ["tiktok"],
    }
    tiktok = sandbox.state.get("tiktok", "campaign", pcs["tiktok"].external_campaign_id)
    assert int(tiktok["budget"]) != pcs["tiktok"].budget_total  # nothing claimed that did not happen


def test_a_lost_response_is_retried_without_applying_twice(client, app_ctx, sandbox):
    campaign = _published(client, ["snapchat"])
    sandbox.set_faults("snapchat", drop_after_commit=1)
    pc = _pcs(campaign.id)["snapchat"]
    changes.set_daily_budget(
        db.session, platform_campaign_id=pc.id, ad_group_id=None, daily_budget=80_000,
        reason="ritmo de gasto", actor="pacing",
    )  # fmt: skip
    pc = _pcs(campaign.id)["snapchat"]
    assert pc.update_status == "applied" and pc.update_attempts >= 1
    assert sandbox.state.dropped["snapchat"] == 1  # the platform applied it, the answer was lost
    squads = [sandbox.state.get("snapchat", "adsquad", g.external_id) for g in pc.ad_groups]
    assert sum(int(s["daily_budget_micro"]) for s in squads) == 80_000 * 10**6
    assert sandbox.object_counts("snapchat").get("adsquad") == len(pc.ad_groups)


def test_bad_changes_are_refused_and_nothing_is_written(client, app_ctx, sandbox):
    campaign = _published(client, ["meta"])
    pc = _pcs(campaign.id)["meta"]
    group = pc.ad_groups[0]
    db.session.add(MetricDaily(
        ad_group_id=group.id, platform_campaign_id=pc.id, campaign_id=campaign.id, platform="meta",
        date=today(), impressions=10, clicks=1, spend_micros=2_500_000 * 10**6, applications=0,
    ))  # fmt: skip
    db.session.commit()
    with pytest.raises(ValidationFailed) as spent:
        changes.change_campaign(db.session, campaign.id, actor="a", budget_total=2_000_000)
    assert "budget_total" in spent.value.errors
    with pytest.raises(ValidationFailed):
        changes.change_campaign(db.session, campaign.id, actor="a", end_date=today() - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        changes.change_campaign(db.session, campaign.id, actor="a", platform_weights={"google": 1})
    with pytest.raises(ValidationFailed):
        changes.set_daily_budget(
            db.session, platform_campaign_id=pc.id, ad_group_id=None, daily_budget=0, reason="x", actor="a"
        )
    assert _pcs(campaign.id)["meta"].update_revision == 0
    assert db.session.get(Campaign, campaign.id).budget_total == 3_000_000
    db.session.get(Campaign, campaign.id).status = "archived"
    db.session.commit()
    with pytest.raises(InvalidTransition):
        changes.change_campaign(db.session, campaign.id, actor="a", budget_total=4_000_000)


def test_refreshed_copy_replaces_the_creative_behind_the_same_ads(client, app_ctx, sandbox):
    campaign = _published(client, ["meta", "tiktok", "snapchat"])
    ads_before = {p: dict(pc.external_ids["ads"]) for p, pc in _pcs(campaign.id).items()}
    assert changes.refresh_creatives(db.session, campaign.id, actor="feed").unchanged
    job = db.session.get(Campaign, campaign.id).job
    job.title, job.salary_max = "Analista de datos senior", 9_000_000
    db.session.commit()

    result = changes.refresh_creatives(db.session, campaign.id, actor="feed")
    assert set(result.queued) == {"meta", "tiktok", "snapchat"}
    pcs = _pcs(campaign.id)
    for platform, pc in pcs.items():
        assert pc.update_status == "applied"
        assert pc.external_ids["ads"] == ads_before[platform]
    meta_ad = sandbox.state.get("meta", "ad", next(iter(ads_before["meta"].values())))
    creative = sandbox.state.get("meta", "creative", meta_ad["creative"]["id"])
    assert "Analista de datos senior" in creative["object_story_spec"]["link_data"]["name"]
    tiktok_ad = sandbox.state.get("tiktok", "ad", next(iter(ads_before["tiktok"].values())))
    assert "Analista de datos senior" in tiktok_ad["ad_text"]


def test_an_update_whose_message_was_lost_is_resent_by_the_sweep(client, app_ctx, sandbox):
    from adflux.services import task_queue
    from adflux.services.campaigns import change_apply

    campaign = _published(client, ["tiktok"])
    original = task_queue.send
    task_queue.send = lambda *args, **kwargs: None  # the broker took nothing
    try:
        changes.change_campaign(db.session, campaign.id, actor="ana@example.co", budget_total=4_000_000)
    finally:
        task_queue.send = original
    pc = _pcs(campaign.id)["tiktok"]
    assert pc.update_status == "pending"
    assert change_apply.resend_stalled_updates(idle_minutes=10) == 0  # not idle long enough yet
    pc.updated_at = pc.updated_at - timedelta(minutes=11)
    db.session.commit()
    assert change_apply.resend_stalled_updates(idle_minutes=10) == 1
    pc = _pcs(campaign.id)["tiktok"]
    assert pc.update_status == "applied"
    tiktok = sandbox.state.get("tiktok", "campaign", pc.external_campaign_id)
    assert int(tiktok["budget"]) == pc.budget_total


def test_a_moved_opening_retargets_every_platform_in_place_and_compliantly(client, app_ctx, sandbox):
    campaign = _published(client, PLATFORMS)
    ids_before = {
        p: (pc.external_campaign_id, dict(pc.external_ids["ad_groups"]))
        for p, pc in _pcs(campaign.id).items()
    }
    job = db.session.get(Campaign, campaign.id).job
    job.city, job.department = "Medellín", "Antioquia"
    db.session.commit()

    result = changes.refresh_creatives(db.session, campaign.id, actor="feed")
    assert all("targeting" in result.changed[p] for p in PLATFORMS)
    pcs = _pcs(campaign.id)
    assert {pc.update_status for pc in pcs.values()} == {"applied"}
    for platform, pc in pcs.items():
        assert (pc.external_campaign_id, pc.external_ids["ad_groups"]) == ids_before[platform]  # in place
        assert [c["name"] for c in next(iter(pc.targeting.values()))["cities"]] == ["Medellín"]
    adset = sandbox.state.get("meta", "adset", pcs["meta"].ad_groups[0].external_id)["targeting"]
    assert [loc["name"] for loc in adset["geo_locations"]["custom_locations"]] == ["Medellín"]
    assert (adset["age_min"], adset["age_max"]) == (18, 65) and "genders" not in adset  # employment rules
    tiktok = sandbox.state.get("tiktok", "adgroup", pcs["tiktok"].ad_groups[0].external_id)
    assert tiktok["location_ids"] == ["3674962"]  # Medellín's GeoNames id
    squad = sandbox.state.get("snapchat", "adsquad", pcs["snapchat"].ad_groups[0].external_id)
    assert squad["targeting"]["locations"][0]["circles"][0]["latitude"] == 6.2442
    live = [c for c in sandbox.state.all("google", "campaign_criterion") if c.get("status") != "REMOVED"]
    assert [
        round(c["proximity"]["geoPoint"]["latitudeInMicroDegrees"] / 1e6, 4) for c in live if "proximity" in c
    ] == [6.2442]
    item = pcs["x"].ad_groups[0].external_id
    criteria = [c for c in sandbox.state.all("x", "targeting_criterion") if c["line_item_id"] == item]
    x_places = [c for c in criteria if not c.get("deleted") and c["targeting_type"] == "LOCATION"]
    assert len(x_places) == 1

    assert changes.refresh_creatives(
        db.session, campaign.id, actor="feed"
    ).unchanged  # the same again: nothing
