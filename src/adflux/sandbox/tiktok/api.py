"""The TikTok emulation as one API: its endpoint mixins, plus advertiser info."""

from __future__ import annotations

from adflux.sandbox.conversions import TikTokConversions
from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.tiktok.audiences import TikTokAudiences
from adflux.sandbox.tiktok.objects import TikTokObjects
from adflux.sandbox.tiktok.protocol import P
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
