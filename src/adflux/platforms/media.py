"""Ad images through each platform's media API, before the ad that shows them.

Meta: POST act_<id>/adimages (base64 ``bytes``) → ``image_hash``. TikTok: POST
file/image/ad/upload/ (multipart, MD5 ``image_signature``) → ``image_ids``. Snapchat: POST
adaccounts/<id>/media, then media/<id>/upload (multipart) → the Top Snap's ``snap_media_id``.
Google: POST customers/<cid>/assets:mutate (an IMAGE ``Asset``, base64 ``imageAsset.data``) → the
asset's resource name, linked to each ad group as an AD_IMAGE ``AdGroupAsset`` in the tree. X: POST
2/media/upload (multipart) → ``media_key``, kept in the account's media library, shown by a website
card whose ``card_uri`` the promoted post carries.
TikTok and Snapchat image ads cannot go out without one; Meta's link ad, Google's search ad and X's
post take it when there is one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote_plus, urlencode

from PIL import Image

from adflux.platforms.errors import FatalError, PlatformError, PlatformValidationError
from adflux.platforms.types import CampaignSpec

logger = logging.getLogger(__name__)

# The creative extra each platform's ad reads its image from.
MEDIA_KEYS = {
    "meta": "image_hash",
    "tiktok": "image_ids",
    "snapchat": "snap_media_id",
    "google": "image_asset",
    "x": "media_key",
}
REQUIRED = {"tiktok", "snapchat"}
# Width/height ratios a platform shows (Google's AD_IMAGE and X's website card: square or 1.91:1).
SHAPES = {"google": (1.0, 1.91), "x": (1.0, 1.91)}


# How each platform answers an ad that names a media id it no longer has (deleted at the platform,
# or an account reset): TikTok 40002 "image … does not exist", Snapchat "top_snap_media_id … is not
# a READY media", X "media_key … is not in this account's media library" / "was not uploaded",
# Google RESOURCE_NOT_FOUND "The asset was not found".
MISSING_MEDIA = {
    "tiktok": re.compile(r"image_ids: image \S+ does not exist"),
    "snapchat": re.compile(r"top_snap_media_id \S+ is not a READY media"),
    "x": re.compile(r"media_key \S+ (is not in this account's media library|was not uploaded)"),
    "google": re.compile(r"The asset was not found"),
}


def missing_media(platform: str, error: PlatformError) -> bool:
    """Whether `error` is the platform saying a media id the request named does not exist."""
    pattern = MISSING_MEDIA.get(platform)
    return isinstance(error, PlatformValidationError) and bool(pattern and pattern.search(str(error)))


def without_media(spec: CampaignSpec, platform: str) -> CampaignSpec:
    """`spec` with the platform's media id taken out of the creative (to be uploaded again)."""
    key = MEDIA_KEYS.get(platform)
    if key is None or key not in spec.creative.extra:
        return spec
    extra = {name: value for name, value in spec.creative.extra.items() if name != key}
    return replace(spec, creative=replace(spec.creative, extra=extra))


def fits(platform: str, data: bytes) -> bool:
    """Whether the image has a shape `platform` shows (1 % tolerance, as the platforms allow)."""
    ratios = SHAPES.get(platform)
    if ratios is None:
        return True
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return any(abs(width / height - ratio) <= ratio * 0.01 for ratio in ratios)


def attach(adapter: Any, spec: CampaignSpec) -> tuple[CampaignSpec, dict[str, Any]]:
    """`spec` with its image uploaded (unless the creative already names one), and the media ids."""
    key = MEDIA_KEYS.get(adapter.platform)
    if key is None:
        return spec, {}
    creative = spec.creative
    if creative.extra.get(key):
        return spec, {key: creative.extra[key]}
    if creative.image is not None and not fits(adapter.platform, creative.image):
        # Optional there: the ad goes out as text rather than not at all (publishing renders each
        # platform's own size, so only a caller handing over another platform's image gets here).
        logger.warning("%s: the creative's image is not a shape it shows; sent without it", adapter.platform)
        return spec, {}
    if creative.image is None:
        if adapter.platform in REQUIRED:
            raise FatalError(
                f"{adapter.platform} image ads need an image and the creative has none",
                platform=adapter.platform,
            )
        return spec, {}
    # Named by content alone: a publish of another campaign of the same opening, after an upload
    # whose answer was lost, finds it by name instead of uploading it again.
    name = f"adflux-{hashlib.sha256(creative.image).hexdigest()[:16]}.png"
    media = UPLOADS[adapter.platform](adapter, creative.image, name)
    return replace(spec, creative=replace(creative, extra={**creative.extra, **media})), media


def _meta(adapter: Any, data: bytes, name: str) -> dict[str, Any]:
    answer = adapter.transport.request(
        "POST",
        adapter._path(adapter.act, "adimages"),
        operation="upload_image",
        content=form_body({"name": name}, base64_field=("bytes", data)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        idempotent=True,  # the same bytes give the same hash
    ).json()
    images = answer.get("images") or {}
    return {"image_hash": next(iter(images.values()))["hash"]}


def form_body(fields: dict[str, str], *, base64_field: tuple[str, bytes]) -> bytes:
    """A form-urlencoded body with one field holding `data` in base64: the same bytes httpx's
    ``data=`` sends, without quoting ~100 kB character by character (urllib's quote does a dict
    lookup per byte: ~40 ms of CPU per image). Base64 only needs +, / and = escaped."""
    encoded = base64.b64encode(base64_field[1])
    encoded = encoded.replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")
    return urlencode(fields).encode() + b"&" + quote_plus(base64_field[0]).encode() + b"=" + encoded


def _tiktok(adapter: Any, data: bytes, name: str) -> dict[str, Any]:
    answer = adapter.transport.request(
        "POST",
        adapter._path("file/image/ad/upload/"),
        operation="upload_image",
        data={
            "advertiser_id": adapter.advertiser,
            "upload_type": "UPLOAD_BY_FILE",
            "image_signature": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "file_name": name,
        },
        files={"image_file": (name, data, "image/png")},
        idempotent=True,  # the same signature gives the same image
    ).json()
    return {"image_ids": [answer["data"]["image_id"]]}


def _snapchat(adapter: Any, data: bytes, name: str) -> dict[str, Any]:
    """Found by name first (a publish that crashed after the upload reuses it), else created."""
    account = adapter.account.account_id
    listed = adapter._call("GET", f"adaccounts/{account}/media", "list_media")
    found = [row["media"] for row in listed.get("media", []) if row["media"].get("name") == name]
    if found and found[0].get("media_status") == "READY":
        return {"snap_media_id": str(found[0]["id"])}
    if found:
        media_id = str(found[0]["id"])
    else:
        created = adapter._call(
            "POST",
            f"adaccounts/{account}/media",
            "create_media",
            json={"media": [{"name": name, "type": "IMAGE", "ad_account_id": account}]},
        )
        media_id = str(created["media"][0]["media"]["id"])
    adapter._call(
        "POST", f"media/{media_id}/upload", "upload_media", files={"file": (name, data, "image/png")}
    )
    return {"snap_media_id": media_id}


def _google(adapter: Any, data: bytes, name: str) -> dict[str, Any]:
    """Found by name first (a publish that crashed after the upload reuses it), else created."""
    found = adapter.search(
        f"SELECT asset.resource_name, asset.name FROM asset WHERE asset.name = {_gaql_string(name)}",
        "find_image_asset",
    )
    if found:
        return {"image_asset": found[0]["asset"]["resourceName"]}
    asset = {"name": name, "type": "IMAGE", "imageAsset": {"data": base64.b64encode(data).decode()}}
    answer = adapter.transport.request(
        "POST",
        adapter._customer("/assets:mutate"),
        operation="upload_image",
        json={"operations": [{"create": asset}]},
    ).json()
    return {"image_asset": answer["results"][0]["resourceName"]}


def _x(adapter: Any, data: bytes, name: str) -> dict[str, Any]:
    """Found in the account's media library by name first, else uploaded and added to it (an
    upload alone expires after a day; the library keeps it for the card)."""
    library = adapter._acc("/media_library")
    for row in adapter._all(library, "list_media_library", media_type="IMAGE"):
        if row.get("name") == name:
            return {"media_key": str(row["media_key"])}
    answer = adapter.transport.request(
        "POST",
        adapter.media_upload_url,
        operation="upload_image",
        data={"media_category": "tweet_image", "media_type": "image/png"},
        files={"media": (name, data, "image/png")},
        idempotent=True,  # a second upload is an unused copy that expires in a day
    ).json()
    key = str(answer["data"]["media_key"])
    adapter._call(
        "POST", library, "add_media_library", params={"media_key": key, "name": name, "file_name": name}
    )
    return {"media_key": key}


def _gaql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


UPLOADS: dict[str, Callable[[Any, bytes, str], dict[str, Any]]] = {
    "meta": _meta,
    "tiktok": _tiktok,
    "snapchat": _snapchat,
    "google": _google,
    "x": _x,
}
