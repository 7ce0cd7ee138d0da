"""Publishing renders the job's image in each platform's size and uploads it once per account:
a second campaign for the same opening reuses the media ids instead of uploading again."""

from __future__ import annotations

import pytest
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


def test_google_and_x_show_the_jobs_square_image(client, app_ctx, sandbox):
    job = make_job(title="Cajero", city="Cali", department="Valle del Cauca")
    body = {"job_id": job.id, "platforms": ["google", "x"], "budget_total": 3_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active", detail
    (asset,) = sandbox.state.all("google", "asset")
    assert asset["imageAsset"]["fullSize"] == {"widthPixels": "1080", "heightPixels": "1080"}
    links = sandbox.state.all("google", "ad_group_asset")
    assert links and {link["asset"] for link in links} == {asset["resourceName"]}
    (upload,) = sandbox.state.all("x", "upload")
    assert (upload["image"]["w"], upload["image"]["h"]) == (1080, 1080)
    (card,) = sandbox.state.all("x", "card")
    post = next(pc for pc in detail["platform_campaigns"] if pc["platform"] == "x")
    tweet = sandbox.state.get("x", "tweet", post["external_ids"]["creative_id"])
    assert tweet["card_uri"] == card["card_uri"]
    rows = db.session.scalars(select(MediaUpload.platform).order_by(MediaUpload.platform)).all()
    assert rows == ["google", "x"]


@pytest.mark.parametrize(("platform", "kind", "key"), [
    ("tiktok", "image", "image_ids"),
    ("snapchat", "media", "snap_media_id"),
    ("x", "media_library", "media_key"),
    ("google", "asset", "image_asset"),
])  # fmt: skip
def test_media_deleted_at_the_platform_is_uploaded_again_and_the_publish_goes_on(
    client, app_ctx, sandbox, platform, kind, key
):
    """The platform answers that the recorded media id does not exist (TikTok 40002, Snapchat's
    not-READY media, X's media library, Google's RESOURCE_NOT_FOUND): the stale record is dropped,
    the image uploaded again (once) and the publish retried; the ad shows the new media."""
    job = make_job(title="Cajero", city="Cali", department="Valle del Cauca")
    body = {"job_id": job.id, "platforms": [platform], "budget_total": 3_000_000}

    def publish() -> dict:
        campaign = client.post("/api/v1/campaigns", json=body).get_json()
        assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
        return client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()

    assert publish()["status"] == "active"
    (old,) = db.session.scalars(select(MediaUpload.media).where(MediaUpload.platform == platform)).all()
    for object_id in list(sandbox.state.objects[platform][kind]):
        sandbox.state.remove(platform, kind, object_id)  # deleted at the platform

    second = publish()
    assert second["status"] == "active", second["platform_campaigns"][0]["last_error"]
    db.session.expire_all()
    (new,) = db.session.scalars(select(MediaUpload.media).where(MediaUpload.platform == platform)).all()
    # Uploaded again exactly once (TikTok names an image by its content: the same id comes back).
    (stored,) = sandbox.state.all(platform, kind)
    assert new[key] != old[key] or platform == "tiktok"
    shown = second["platform_campaigns"][0]["external_ids"]["extra"]["media"][key]
    assert shown == new[key]
    assert str(stored.get("media_key") or stored.get("resourceName") or stored["id"]) in str(new[key])
