"""Google Ads image assets: AssetService ``assets:mutate`` with ``imageAsset.data``, and their links.

An image is uploaded once as an ``Asset`` (type IMAGE, the bytes base64 in ``imageAsset.data``)
and linked to an ad group by an ``AdGroupAsset`` with ``fieldType: AD_IMAGE`` inside the atomic
``googleAds:mutate``. As Google's image-asset specification says: PNG, JPEG (or static GIF) of at
most 5120 KB; an AD_IMAGE is square (1:1, at least 300×300) or landscape (1.91:1, at least
600×314).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from adflux.sandbox import media
from adflux.sandbox.definitions import google_asset_mutate_unknown
from adflux.sandbox.google.protocol import CID, V, invalid_json_payload
from adflux.sandbox.google.validation import GoogleValidation, NamesInRequest, OperationError
from adflux.sandbox.http import ApiError, Request, Response, json_response, route

MAX_BYTES = 5120 * 1024
# AD_IMAGE shapes: (width / height, minimum width, minimum height); 1 % tolerance on the ratio.
AD_IMAGE_SHAPES = ((1.0, 300, 300), (1.91, 600, 314))
FIELD_TYPES = ("AD_IMAGE",)


def _asset_error(code: dict[str, str], message: str, index: int, *fields: str) -> ApiError:
    path = [{"fieldName": "operations", "index": index}, *({"fieldName": name} for name in fields)]
    error = {"errorCode": code, "message": message, "location": {"fieldPathElements": path}}
    return ApiError("validation", message, extra={"errors": [error]})


def ad_image_problem(asset: dict[str, Any]) -> str | None:
    """Why an image asset cannot be an AD_IMAGE (its shape), or None."""
    size = asset["imageAsset"]["fullSize"]
    width, height = int(size["widthPixels"]), int(size["heightPixels"])
    for ratio, min_width, min_height in AD_IMAGE_SHAPES:
        if abs(width / height - ratio) <= ratio * 0.01 and width >= min_width and height >= min_height:
            return None
    return f"The image is {width}x{height}; an ad image must be 1:1 (min 300x300) or 1.91:1 (min 600x314)."


class GoogleAssets(GoogleValidation):
    """``/vNN/customers/{cid}/assets:mutate`` (creates of image assets) and AdGroupAsset links."""

    @route("POST", rf"{V}/customers/{CID}/assets:mutate")
    def mutate_assets(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
        unknown = google_asset_mutate_unknown(body)
        if unknown:
            return invalid_json_payload(unknown)
        operations = body.get("operations") or []
        if not operations:
            raise _asset_error({"requestError": "REQUIRED_FIELD_MISSING"}, "operations is required", 0)
        staged = [self._stage_asset(cid, operation, index) for index, operation in enumerate(operations)]
        if body.get("validateOnly"):
            return json_response({})
        results = []
        for asset in staged:
            asset["id"] = self.state.ids.google()
            asset["resourceName"] = f"customers/{cid}/assets/{asset['id']}"
            self.state.add(self.platform, "asset", asset)
            results.append({"resourceName": asset["resourceName"]})
        return json_response({"results": results})

    def _stage_asset(self, cid: str, operation: dict[str, Any], index: int) -> dict[str, Any]:
        create = operation.get("create")
        if not isinstance(create, dict):
            raise _asset_error(
                {"mutateError": "OPERATION_DOES_NOT_SUPPORT_OPERATION_TYPE"},
                "Only asset creates are emulated.",
                index,
            )
        encoded = (create.get("imageAsset") or {}).get("data")
        if not encoded:
            raise _asset_error(
                {"assetError": "REQUIRED_FIELD_MISSING"}, "imageAsset.data is required.", index, "image_asset"
            )
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise _asset_error(
                {"imageError": "PROBLEM_READING_IMAGE_FILE"}, "The image data is not base64.", index
            ) from None
        facts = media.image_facts(data)
        if facts is None:
            raise _asset_error({"imageError": "FORMAT_NOT_ALLOWED"}, "The image is not a PNG or JPEG.", index)
        if len(data) > MAX_BYTES:
            raise _asset_error(
                {"imageError": "FILE_TOO_LARGE"},
                f"The image is {len(data)} bytes; the limit is 5120 KB.",
                index,
            )
        kind, width, height = facts
        name = create.get("name", "")
        if name and any(obj.get("name") == name for obj in self._objects("asset", cid)):
            raise _asset_error({"assetError": "DUPLICATE_ASSET_NAME"}, "Asset name already exists.", index)
        return {
            "_cid": cid,
            "_kind": "asset",
            "name": name,
            "type": "IMAGE",
            "imageAsset": {
                "fileSize": str(len(data)),
                "mimeType": {"png": "IMAGE_PNG", "jpeg": "IMAGE_JPEG"}[kind],
                "fullSize": {"widthPixels": str(width), "heightPixels": str(height)},
            },
        }

    def _check_ad_group_asset(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
    ) -> None:
        """An AD_IMAGE link: an ad group of this request or account, and an image asset of the right shape."""
        create["adGroup"] = self._resolve(create.get("adGroup", ""), temp, index, "ad_group")
        if create.get("fieldType") not in FIELD_TYPES:
            raise OperationError(
                {"fieldTypeError": "INVALID_FIELD_TYPE"}, "Only AD_IMAGE links are emulated.", index
            )
        asset = self._by_name("asset", create.get("asset", ""))
        if asset is None or asset["_cid"] != cid:
            raise OperationError(
                {"mutateError": "RESOURCE_NOT_FOUND"}, "The asset was not found.", index, ("asset",)
            )
        problem = ad_image_problem(asset)
        if problem:
            raise OperationError({"imageError": "ASPECT_RATIO_NOT_ALLOWED"}, problem, index, ("asset",))
