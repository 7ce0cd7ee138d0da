"""Publishing renders the job's image in each platform's size and uploads it once per account:
a second campaign for the same opening reuses the media ids instead of uploading again."""

from __future__ import annotations

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import MediaUpload
from adflux.sandbox.media import image_facts
from factories import make_job


def _publish(client, job_id: int, budget: int) -> dict:  # type: ignore[no-untyped-def]
    body = {"job_id": job_id, "platforms": ["meta", "tiktok", "snapchat"], "budget_total": budget}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    accepted = client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    assert accepted.status_code == 202
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active", detail
    return detail


def test_each_platform_gets_the_jobs_image_once(client, app_ctx, sandbox):
    job = make_job(title="Auxiliar de bodega", city="Medellín", department="Antioquia")
    _publish(client, job.id, 3_000_000)
    images = {
        "meta": sandbox.state.all("meta", "adimage"),
        "tiktok": sandbox.state.all("tiktok", "image"),
        "snapchat": sandbox.state.all("snapchat", "media"),
    }
    assert [len(rows) for rows in images.values()] == [1, 1, 1]
    assert (images["meta"][0]["width"], images["meta"][0]["height"]) == (1080, 1080)  # feed: square
    assert (images["tiktok"][0]["width"], images["tiktok"][0]["height"]) == (1080, 1920)  # full screen
    assert images["snapchat"][0]["media_status"] == "READY"
    assert db.session.scalar(select(func.count()).select_from(MediaUpload)) == 3

    # A second campaign for the same opening: same image, so nothing is uploaded again.
    second = _publish(client, job.id, 2_000_000)
    assert len(sandbox.state.all("snapchat", "media")) == 1
    assert len(sandbox.state.all("tiktok", "image")) == 1
    assert db.session.scalar(select(func.count()).select_from(MediaUpload)) == 3
    snap = next(pc for pc in second["platform_campaigns"] if pc["platform"] == "snapchat")
    creative = sandbox.state.get("snapchat", "creative", snap["external_ids"]["creative_id"])
    assert creative["top_snap_media_id"] == images["snapchat"][0]["id"]


def test_the_image_is_a_real_png_of_the_platforms_size(client, app_ctx, sandbox):
    from adflux.services.creative_images import image_for

    job = make_job()
    assert image_facts(image_for(job, "tiktok")) == ("png", 1080, 1920)
    assert image_facts(image_for(job, "meta")) == ("png", 1080, 1080)
