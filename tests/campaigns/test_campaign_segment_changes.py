"""Segments added to and removed from a live campaign: new ad groups created and switched on, removed
ones paused, on all five platforms over HTTP to the sandbox (eager Celery runs the update inline)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign
from adflux.services.campaigns import segment_changes
from adflux.services.errors import ValidationFailed
from factories import make_job, make_segments

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]
KIND = {"meta": "adset", "google": "ad_group", "x": "line_item", "tiktok": "adgroup", "snapchat": "adsquad"}
ON = {"meta": "ACTIVE", "google": "ENABLED", "x": "ACTIVE", "tiktok": "ENABLE", "snapchat": "ACTIVE"}


def _status(sandbox, platform: str, group_id: str) -> str:
    obj = sandbox.state.get(platform, KIND[platform], group_id)
    field = {"x": "entity_status", "tiktok": "operation_status"}.get(platform, "status")
    return obj[field]


def _published(client, platforms, segment_ids):
    body = {"job_id": make_job().id, "platforms": platforms, "budget_total": 5_000_000,
            "budget_daily": 100_000, "segment_ids": segment_ids}  # fmt: skip
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert "id" in campaign, campaign
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["status"] == "active"
    return campaign["id"]


def _pcs(campaign_id):
    db.session.expire_all()
    rows = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign_id))
    return {pc.platform: pc for pc in rows}


def test_a_segment_added_then_one_removed_follows_on_every_platform(client, app_ctx, sandbox):
    first, second = make_segments(2)
    campaign_id = _published(client, PLATFORMS, [first.id])
    groups_before = {p: dict(pc.external_ids["ad_groups"]) for p, pc in _pcs(campaign_id).items()}

    added = segment_changes.change_segments(db.session, campaign_id, actor="ana@example.co", add=[second.id])
    assert set(added.queued) == set(PLATFORMS) and added.changed["added"] == [second.id]
    pcs = _pcs(campaign_id)
    for platform, pc in pcs.items():
        assert pc.update_status == "applied", (platform, pc.update_error)
        groups = pc.external_ids["ad_groups"]
        assert groups[f"s{first.id}"] == groups_before[platform][f"s{first.id}"]  # the old one kept
        new_id = groups[f"s{second.id}"]
        assert _status(sandbox, platform, new_id) == ON[platform], platform
        assert sum(g.budget_daily for g in pc.live_groups) == pc.budget_daily  # the same daily, shared
    assert {s.id for s in db.session.get(Campaign, campaign_id).segments} == {first.id, second.id}

    segment_changes.change_segments(db.session, campaign_id, actor="ana@example.co", remove=[first.id])
    pcs = _pcs(campaign_id)
    for platform, pc in pcs.items():
        assert pc.update_status == "applied", (platform, pc.update_error)
        old_id = groups_before[platform][f"s{first.id}"]
        assert _status(sandbox, platform, old_id) != ON[platform], platform  # paused, kept
        assert f"s{first.id}" not in pc.external_ids["ad_groups"]
        assert pc.external_ids["extra"]["removed_groups"][f"s{first.id}"] == old_id
        assert [g.segment_id for g in pc.live_groups] == [second.id]
        assert _status(sandbox, platform, pc.external_ids["ad_groups"][f"s{second.id}"]) == ON[platform]
    assert sandbox.object_counts("meta").get("campaign") == 1


def test_bad_segment_changes_are_refused_and_change_nothing(client, app_ctx, sandbox):
    first, second = make_segments(2)
    campaign_id = _published(client, ["meta"], [first.id])
    cases = [
        {"add": [first.id]},  # already in it
        {"remove": [second.id]},  # not in it
        {"remove": [first.id]},  # the last one
        {"add": [second.id], "remove": [second.id]},
        {"add": [999_999]},  # unknown
    ]
    for case in cases:
        with pytest.raises(ValidationFailed):
            segment_changes.change_segments(db.session, campaign_id, actor="a", **case)
    pc = _pcs(campaign_id)["meta"]
    assert pc.update_revision == 0 and [g.segment_id for g in pc.live_groups] == [first.id]
    assert segment_changes.change_segments(db.session, campaign_id, actor="a").unchanged


def test_patch_and_cli_add_and_remove_segments_with_truthful_states(client, app_ctx, sandbox, cli):
    first, second, third = make_segments(3)
    campaign_id = _published(client, ["meta", "tiktok"], [first.id])

    answer = client.patch(f"/api/v1/campaigns/{campaign_id}", json={"add_segment_ids": [second.id]})
    assert answer.status_code == 200, answer.get_json()
    assert set(answer.get_json()["queued"]) == {"meta", "tiktok"}
    detail = client.get(f"/api/v1/campaigns/{campaign_id}").get_json()
    assert {pc["update_status"] for pc in detail["platform_campaigns"]} == {"applied"}
    bad = client.patch(f"/api/v1/campaigns/{campaign_id}", json={"remove_segment_ids": [third.id]})
    assert bad.status_code == 422 and bad.get_json()["message"]
    assert (
        client.patch(f"/api/v1/campaigns/{campaign_id}", json={"add_segment_ids": ["x"]}).status_code == 422
    )

    done = cli("update-campaign", str(campaign_id), "--add-segments", str(third.id),
               "--remove-segments", str(first.id))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "actualización enviada a: meta, tiktok" in done.output
    pcs = _pcs(campaign_id)
    for platform, pc in pcs.items():
        assert sorted(g.segment_id for g in pc.live_groups) == [second.id, third.id], platform
        assert pc.update_status == "applied"
        old = pc.external_ids["extra"]["removed_groups"][f"s{first.id}"]
        assert _status(sandbox, platform, old) != ON[platform]
    wrong = cli("update-campaign", str(campaign_id), "--add-segments", "tres")
    assert wrong.exit_code != 0 and "Traceback" not in wrong.output
    assert "--add-segments espera ids" in wrong.output


def test_an_ad_group_added_after_new_copy_carries_the_new_copy(client, app_ctx, sandbox):
    first, second = make_segments(2)
    campaign_id = _published(client, ["meta", "snapchat", "x"], [first.id])
    job = db.session.get(Campaign, campaign_id).job
    job.title = "Analista de datos senior"
    db.session.commit()
    from adflux.services.campaigns import changes

    changes.refresh_creatives(db.session, campaign_id, actor="feed")
    segment_changes.change_segments(db.session, campaign_id, actor="ana@example.co", add=[second.id])
    pcs = _pcs(campaign_id)
    for platform, pc in pcs.items():
        assert pc.update_status == "applied", (platform, pc.update_error)
        ads = pc.external_ids["ads"]
        if platform == "meta":
            creatives = {sandbox.state.get("meta", "ad", a)["creative"]["id"] for a in ads.values()}
        elif platform == "snapchat":
            creatives = {sandbox.state.get("snapchat", "ad", a)["creative_id"] for a in ads.values()}
        else:
            creatives = {sandbox.state.get("x", "promoted_tweet", a)["tweet_id"] for a in ads.values()}
        assert creatives == {pc.external_ids["creative_id"]}, platform  # every ad: the current copy


@pytest.mark.parametrize(
    ("fault", "drops"),
    [({"drop_after_commit": 1}, 1), ({"drop_after_commit": 2}, 2), ({"drop_rate": 1.0}, 2)],
)
def test_google_adopts_ad_groups_whose_create_answer_was_lost(client, app_ctx, sandbox, fault, drops):
    """The add-ad-groups mutate commits at Google but its answer is lost (for one segment added, or
    for each of two): the groups are found by name with a GAQL search and adopted, never made twice."""
    first, second, third = make_segments(3)
    campaign_id = _published(client, ["google"], [first.id])
    assert sandbox.object_counts("google").get("ad_group") == 1
    # Only the create of new groups carries ads: the mutates that switch them on are answered.
    sandbox.set_faults("google", drop_match="adGroupAdOperation", **fault)
    added = [second.id, third.id][:drops]
    for segment_id in added:  # one change per segment: each create's answer is lost
        segment_changes.change_segments(db.session, campaign_id, actor="ana@example.co", add=[segment_id])
    pc = _pcs(campaign_id)["google"]
    assert pc.update_status == "applied", pc.update_error
    assert sandbox.state.dropped["google"] == drops  # the answers really were lost
    groups = pc.external_ids["ad_groups"]
    assert sandbox.object_counts("google").get("ad_group") == 1 + len(added)  # 0 duplicates
    assert sandbox.object_counts("google").get("ad_group_ad") == 1 + len(added)
    for segment_id in added:
        group = sandbox.state.get("google", "ad_group", groups[f"s{segment_id}"])
        assert group["status"] == "ENABLED" and f":s{segment_id}]" in group["name"]
