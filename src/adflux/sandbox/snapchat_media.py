"""Snapchat media: create the media entity, upload its file, and a creative's Top Snap must be one.

POST /v1/adaccounts/{id}/media ({"media": [{"name", "type": "IMAGE", "ad_account_id"}]}) gives a
media id in PENDING_UPLOAD; POST /v1/media/{id}/upload (multipart ``file``) checks the image and
makes it READY. A creative without a READY ``top_snap_media_id`` of its account is refused.
"""

from __future__ import annotations

import hashlib
from typing import Any

from adflux.sandbox import media
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.snapchat import UUID, SnapchatApi, _invalid
from adflux.sandbox.snapchat_updates import SnapchatUpdates


class SnapchatMedia(SnapchatUpdates):
    @route("POST", rf"/v1/adaccounts/(?P<account>{UUID})/media")
    def create_media(self, request: Request, account: str) -> Response:
        created = []
        for item in self._items(request, "media"):
            if not item.get("name"):
                raise _invalid("media name is required")
            if item.get("type") not in ("IMAGE", "VIDEO"):
                raise _invalid("media type must be IMAGE or VIDEO")
            created.append(self._save("media", item, ad_account_id=account, media_status="PENDING_UPLOAD"))
        return self._media_answer(created)

    @route("GET", rf"/v1/adaccounts/(?P<account>{UUID})/media")
    def list_media(self, request: Request, account: str) -> Response:
        rows = [row for row in self.state.all(self.platform, "media") if row["ad_account_id"] == account]
        return self._media_answer(rows)

    def _media_answer(self, rows: list[dict[str, Any]]) -> Response:
        """Snap's envelope; "media" is its own singular."""
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                "media": [{"sub_request_status": "SUCCESS", "media": dict(row)} for row in rows],
            }
        )

    @route("POST", rf"/v1/media/(?P<media_id>{UUID})/upload")
    def upload_media(self, request: Request, media_id: str) -> Response:
        item = self._get("media", media_id)
        _, files = media.multipart(request)
        if "file" not in files:
            raise _invalid("file is required")
        filename, data = files["file"]
        problem = media.problem(self.platform, data)
        if problem:
            raise _invalid(problem, "E2006")
        item.update(
            media_status="READY",
            file_name=filename,
            file_size_in_bytes=len(data),
            hash=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            updated_at=self._stamp(),
        )
        self.state.add(self.platform, "media", item)
        return json_response(
            {"request_status": "SUCCESS", "request_id": self.state.ids.token(), "result": dict(item)}
        )

    @route("POST", rf"/v1/adaccounts/(?P<account>{UUID})/creatives")
    def create_creatives(self, request: Request, account: str) -> Response:
        for item in self._items(request, "creatives"):
            media_id = str(item.get("top_snap_media_id") or "")
            if not media_id:
                raise _invalid("top_snap_media_id is required: a Snap Ad needs its Top Snap image or video")
            found = self.state.get(self.platform, "media", media_id)
            if found is None or found["ad_account_id"] != account or found["media_status"] != "READY":
                raise _invalid(f"top_snap_media_id {media_id} is not a READY media of this ad account")
        return SnapchatApi.create_creatives(self, request, account)
