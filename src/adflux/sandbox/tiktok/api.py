"""The TikTok emulation as one API: its endpoint mixins, plus advertiser info."""

from __future__ import annotations

import hashlib

from adflux.sandbox import media
from adflux.sandbox.conversions import TikTokConversions
from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.tiktok.audiences import TikTokAudiences
from adflux.sandbox.tiktok.objects import TikTokObjects
from adflux.sandbox.tiktok.protocol import P, invalid
from adflux.sandbox.tiktok.reports import TikTokReports
from adflux.sandbox.tiktok.updates import TikTokUpdates


class TikTokApi(TikTokUpdates, TikTokObjects, TikTokReports, TikTokAudiences, TikTokConversions):
    """business-api.tiktok.com/open_api/v1.3/..."""

    @route("GET", rf"{P}/advertiser/info/")
    def advertiser_info(self, request: Request) -> Response:
        params = self._body(request, "advertiser_ids")
        return self._ok(
            {
                "list": [
                    {
                        "advertiser_id": str(adv),
                        "name": f"Sandbox {adv}",
                        "currency": "COP",
                        "status": "STATUS_ENABLE",
                        "timezone": "America/Bogota",
                    }
                    for adv in params["advertiser_ids"]
                ]
            }
        )

    @route("POST", rf"{P}/file/image/ad/upload/")
    def upload_image(self, request: Request) -> Response:
        """UPLOAD_BY_FILE: the file with its MD5 signature; the same file again gives the same image."""
        fields, files = media.multipart(request)
        for name in ("advertiser_id", "image_signature"):
            if not fields.get(name):
                raise invalid(f"{name}: Missing data for required field.")
        if fields.get("upload_type", "UPLOAD_BY_FILE") != "UPLOAD_BY_FILE":
            raise invalid("upload_type: only UPLOAD_BY_FILE is emulated.")
        if "image_file" not in files:
            raise invalid("image_file: Missing data for required field.")
        filename, data = files["image_file"]
        if hashlib.md5(data, usedforsecurity=False).hexdigest() != fields["image_signature"]:
            raise invalid("image_signature: The signature does not match the file.")
        problem = media.problem(self.platform, data)
        if problem:
            raise invalid(f"image_file: {problem}")
        facts = media.image_facts(data) or ("", 0, 0)
        image_id = f"ad-site-i18n-sg/{fields['image_signature']}"
        image = {
            "id": image_id,
            "image_id": image_id,
            "advertiser_id": fields["advertiser_id"],
            "material_id": str(int(fields["image_signature"][:12], 16)),
            "signature": fields["image_signature"],
            "format": facts[0],
            "width": facts[1],
            "height": facts[2],
            "size": len(data),
            "file_name": fields.get("file_name") or filename,
            "is_carousel_usable": True,
            "displayable": True,
        }
        self.state.add(self.platform, "image", image)
        return self._ok({key: value for key, value in image.items() if key != "id"})
