"""One platform object, one campaign: an id a platform hands out twice is refused, not shared."""

from __future__ import annotations

from sqlalchemy import func, select

from adflux import embedded
from adflux.extensions import db
from adflux.models import PlatformCampaign, PlatformObject
from adflux.sandbox.server import start_sandbox_in_thread
from factories import make_job


def _publish(client, job_id):
    body = {"job_id": job_id, "platforms": ["meta"], "budget_total": 3_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    return client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()


def test_every_object_a_publish_created_is_linked_to_its_platform_campaign(client, app_ctx, sandbox):
    detail = _publish(client, make_job().id)
    pc = detail["platform_campaigns"][0]
    links = db.session.execute(
        select(PlatformObject.kind, PlatformObject.external_id, PlatformObject.platform_campaign_id)
    ).all()
    assert {(kind, owner) for kind, _, owner in links} == {
        ("campaign", pc["id"]),
        ("ad_group", pc["id"]),
        ("creative", pc["id"]),
        ("ad", pc["id"]),
    }
    assert ("campaign", pc["external_campaign_id"], pc["id"]) in links


def test_an_id_the_platform_hands_out_again_is_refused_with_a_clear_error(client, app_ctx, sandbox):
    first = _publish(client, make_job().id)
    assert first["status"] == "active"
    # A platform that forgot its objects (a sandbox restarted without its store) hands out the
    # same ids again: the second campaign must not be credited with the first one's objects.
    forgetful = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(forgetful)
    try:
        second = _publish(client, make_job(title="Otra oferta").id)
    finally:
        embedded.set_in_process_sandbox(sandbox)
        forgetful.stop()
    pc = second["platform_campaigns"][0]
    assert second["status"] == "failed" and pc["status"] == "failed"
    assert "already linked to another campaign" in pc["last_error"]
    assert f"campaign {first['id']}" in pc["last_error"]
    # Nothing of the second campaign was recorded: its ids stay empty and every link is the first's.
    stored = db.session.get(PlatformCampaign, pc["id"])
    assert stored.external_campaign_id is None and not stored.external_ids
    owners = db.session.scalars(select(func.distinct(PlatformObject.platform_campaign_id))).all()
    assert owners == [first["platform_campaigns"][0]["id"]]
