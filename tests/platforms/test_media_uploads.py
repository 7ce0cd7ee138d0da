"""Image ads carry an uploaded image: Meta adimages → image_hash, TikTok file/image/ad/upload →
image_ids, Snapchat media + upload → top_snap_media_id. The sandbox stores the media, checks type,
dimensions and size as the platforms do, and refuses TikTok and Snapchat ads without an image."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adflux.platforms import FatalError, PlatformValidationError
from adflux.platforms.images import ImageCard, render
from adflux.sandbox.media import image_facts
from platforms.conftest import ad_image, credentials_for

SQUARE = render(
    ImageCard("Cajero", "Banco Andino", "Cali", None, "¡Postúlate hoy!", "empleos.example.co"), "square"
)


@pytest.mark.parametrize(("platform", "kind", "key"), [
    ("meta", "adimage", "image_hash"),
    ("tiktok", "image", "image_ids"),
    ("snapchat", "media", "snap_media_id"),
])  # fmt: skip
def test_the_image_is_uploaded_before_the_ad_and_the_ad_uses_it(
    adapter_for: Any, make_spec: Any, sandbox: Any, platform: str, kind: str, key: str
) -> None:
    result = adapter_for(platform).publish(make_spec())
    media = result.extra["media"]
    assert list(media) == [key]
    stored = sandbox.state.all(platform, kind)
    assert len(stored) == 1
    if platform == "snapchat":
        assert stored[0]["media_status"] == "READY" and stored[0]["file_size_in_bytes"] == len(ad_image())
        creative = sandbox.state.get(platform, "creative", result.creative_id)
        assert creative["top_snap_media_id"] == media[key] == stored[0]["id"]
    elif platform == "tiktok":
        assert (stored[0]["width"], stored[0]["height"]) == (1080, 1920)
        ads = sandbox.state.all(platform, "ad")
        assert ads and all(ad["image_ids"] == media[key] for ad in ads)
    else:
        creatives = sandbox.state.all(platform, "creative")
        assert creatives[0]["object_story_spec"]["link_data"]["image_hash"] == media[key]
    # Publishing again (a crashed worker's retry) finds the image: no second upload.
    adapter_for(platform).publish(make_spec())
    assert len(sandbox.state.all(platform, kind)) == 1


def test_a_known_image_is_not_uploaded_again(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    first = adapter_for("tiktok").publish(make_spec("pc-a"))
    spec = make_spec("pc-b")
    spec = replace(spec, creative=replace(spec.creative, extra=dict(first.extra["media"])))
    before = len(wire_contract)
    second = adapter_for("tiktok").publish(spec)
    assert second.extra["media"] == first.extra["media"]
    assert not any("file/image/ad/upload" in r.url for r in wire_contract[before:])


@pytest.mark.parametrize("platform", ["tiktok", "snapchat"])
def test_an_image_ad_without_an_image_never_goes_out(
    adapter_for: Any, make_spec: Any, sandbox: Any, platform: str
) -> None:
    spec = make_spec()
    with pytest.raises(FatalError, match="need an image"):
        adapter_for(platform).publish(replace(spec, creative=replace(spec.creative, image=None)))
    assert sandbox.object_counts(platform).get("campaign", 0) == 0


@pytest.mark.sends_refused_requests
def test_the_sandbox_refuses_what_the_platforms_refuse(
    adapter_for: Any, make_spec: Any, sandbox: Any
) -> None:
    # Snapchat's Top Snap must be 1080x1920: a square image is refused at upload.
    spec = make_spec()
    square = replace(spec, creative=replace(spec.creative, image=SQUARE))
    with pytest.raises(PlatformValidationError, match="1080x1920"):
        adapter_for("snapchat").publish(square)
    # Not an image at all.
    with pytest.raises(PlatformValidationError, match="not a JPEG or PNG"):
        adapter_for("meta").publish(replace(spec, creative=replace(spec.creative, image=b"GIF89a....")))
    # A TikTok SINGLE_IMAGE ad naming no image, or one never uploaded, is refused by the API itself.
    group = adapter_for("tiktok").publish(make_spec()).ad_groups["broad"]
    for image_ids, words in (([], "Missing data"), (["ad-site-i18n-sg/never-uploaded"], "does not exist")):
        creative = {"ad_name": "x", "ad_text": "x", "landing_page_url": "https://e.co"}
        body = {
            "advertiser_id": "7000000000000000001",
            "adgroup_id": group,
            "creatives": [{**creative, "ad_format": "SINGLE_IMAGE", "image_ids": image_ids}],
        }
        answer = httpx.post(
            sandbox.base_url + "/open_api/v1.3/ad/create/",
            headers={"Access-Token": credentials_for("tiktok", sandbox)["access_token"]},
            json=body,
        ).json()
        assert answer["code"] == 40002 and "image_ids" in answer["message"] and words in answer["message"]


def test_the_rendered_sizes_are_the_platforms_own() -> None:
    assert image_facts(ad_image()) == ("png", 1080, 1920)
    assert image_facts(SQUARE) == ("png", 1080, 1080)


def _square_spec(make_spec: Any, key: str = "pc-1") -> Any:
    spec = make_spec(key)
    return replace(spec, creative=replace(spec.creative, image=SQUARE))


def test_google_uploads_an_image_asset_and_links_it_to_every_ad_group(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    result = adapter_for("google").publish(_square_spec(make_spec))
    (asset,) = sandbox.state.all("google", "asset")
    assert result.extra["media"] == {"image_asset": asset["resourceName"]}
    assert asset["type"] == "IMAGE" and asset["imageAsset"]["mimeType"] == "IMAGE_PNG"
    assert asset["imageAsset"]["fullSize"] == {"widthPixels": "1080", "heightPixels": "1080"}
    assert asset["imageAsset"]["fileSize"] == str(len(SQUARE))
    links = sandbox.state.all("google", "ad_group_asset")
    assert sorted(link["adGroup"].rsplit("/", 1)[-1] for link in links) == sorted(result.ad_groups.values())
    assert {(link["asset"], link["fieldType"]) for link in links} == {(asset["resourceName"], "AD_IMAGE")}
    uploads = [r for r in wire_contract if r.url.endswith("/assets:mutate")]
    assert len(uploads) == 1 and b'"imageAsset"' in uploads[0].body
    # A retry after a crash finds the asset by name and the tree by name: nothing uploaded twice.
    adapter_for("google").publish(_square_spec(make_spec))
    assert len(sandbox.state.all("google", "asset")) == 1
    assert len([r for r in wire_contract if r.url.endswith("/assets:mutate")]) == 1


def test_google_takes_a_known_asset_without_uploading(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    first = adapter_for("google").publish(_square_spec(make_spec, "pc-a"))
    spec = _square_spec(make_spec, "pc-b")
    spec = replace(spec, creative=replace(spec.creative, extra=dict(first.extra["media"])))
    before = len(wire_contract)
    second = adapter_for("google").publish(spec)
    assert second.extra["media"] == first.extra["media"]
    assert not any(r.url.endswith("/assets:mutate") for r in wire_contract[before:])
    assert len(sandbox.state.all("google", "ad_group_asset")) == 4


def test_a_vertical_image_is_left_off_googles_search_ad(
    adapter_for: Any, make_spec: Any, sandbox: Any
) -> None:
    result = adapter_for("google").publish(make_spec())  # 1080x1920: not a shape AD_IMAGE shows
    assert "media" not in result.extra and result.campaign_id
    assert sandbox.state.all("google", "asset") == [] == sandbox.state.all("google", "ad_group_asset")


@pytest.mark.sends_refused_requests
def test_the_google_sandbox_refuses_bad_image_assets(adapter_for: Any, sandbox: Any) -> None:
    url = sandbox.base_url + "/v26/customers/1234567890/assets:mutate"
    google = credentials_for("google", sandbox)
    headers = {
        "Authorization": f"Bearer {google['access_token']}",
        "developer-token": google["developer_token"],
    }

    def upload(data: bytes, **extra: Any) -> httpx.Response:
        asset = {"name": "x", "imageAsset": {"data": base64.b64encode(data).decode(), **extra}}
        return httpx.post(url, headers=headers, json={"operations": [{"create": asset}]})

    gif = upload(b"GIF89a....")
    assert gif.status_code == 400
    assert gif.json()["error"]["details"][0]["errors"][0]["errorCode"] == {"imageError": "FORMAT_NOT_ALLOWED"}
    unknown = upload(SQUARE, bogusField=1)
    assert unknown.status_code == 400 and 'Unknown name "bogusField"' in unknown.json()["error"]["message"]
    # A vertical image is stored, but cannot be an AD_IMAGE: the link is refused (whole mutate).
    tall = upload(ad_image()).json()["results"][0]["resourceName"]
    link = {"adGroup": "customers/1234567890/adGroups/1", "asset": tall, "fieldType": "AD_IMAGE"}
    refused = httpx.post(
        sandbox.base_url + "/v26/customers/1234567890/googleAds:mutate",
        headers=headers,
        json={"mutateOperations": [{"adGroupAssetOperation": {"create": link}}]},
    )
    assert refused.status_code == 400
    errors = refused.json()["error"]["details"][0]["errors"]
    assert errors[0]["errorCode"] == {"imageError": "ASPECT_RATIO_NOT_ALLOWED"}


@pytest.mark.parametrize("size", [0, 1, 2, 3, 57, 58, 59, 1000, len(SQUARE)])
def test_metas_upload_body_is_the_form_httpx_would_send(size: int) -> None:
    """The hand-built form body (no per-byte quoting) is byte for byte what ``data=`` encodes."""
    from adflux.platforms.media import form_body

    data = (SQUARE * 2)[:size]
    fields = {"name": "adflux-ñ 1+1=2/&.png"}
    expected = httpx.Request(
        "POST", "http://sandbox", data={**fields, "bytes": base64.b64encode(data).decode()}
    ).read()
    assert form_body(fields, base64_field=("bytes", data)) == expected
