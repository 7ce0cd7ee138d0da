"""X media for cards: the media upload, the account's media library and website cards.

``POST /2/media/upload`` (multipart ``media``, ``media_category``, ``media_type``) answers
``{"data": {"id", "media_key", "size", "expires_after_secs", ...}}``; X takes JPEG, PNG, GIF or WEBP
images of at most 5 MB. ``POST /12/accounts/:id/media_library`` keeps a ``media_key`` for ads.
``POST /12/accounts/:id/cards`` (JSON ``name`` and ``components``) makes a website card: one MEDIA
component naming an image of the library (1:1 or 1.91:1, as X's website card shows) and one DETAILS
component with a title of at most 70 characters and a WEBSITE destination; the answer carries the
``card_uri`` a post's ``card_uri`` must name.
"""

from __future__ import annotations

from typing import Any

from adflux.sandbox import media
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.state import SandboxState
from adflux.sandbox.x.protocol import ACC, XProtocol, invalid, public

MB = 1024 * 1024
MAX_IMAGE_BYTES = 5 * MB
CATEGORIES = ("tweet_image", "amplify_image", "dm_image", "subtitles")
CARD_RATIOS = (1.0, 1.91)
TITLE_LIMIT = 70
MEDIA_UPLOAD = "/2/media/upload"


class XMedia(XProtocol):
    """Media upload (api.x.com/2), media library and cards (ads-api.x.com/12)."""

    @route("POST", MEDIA_UPLOAD)
    def upload_media(self, request: Request) -> Response:
        fields, files = media.multipart(request)
        if "media" not in files:
            raise invalid("media is missing", "media")
        category = fields.get("media_category", "tweet_image")
        if category not in CATEGORIES:
            raise invalid(f"media_category {category} is not supported", "media_category")
        _, data = files["media"]
        facts = media.image_facts(data)
        if facts is None:
            raise invalid("The media is not a JPEG or PNG image.", "media")
        if len(data) > MAX_IMAGE_BYTES:
            raise invalid(f"The image is {len(data)} bytes; the limit is {MAX_IMAGE_BYTES}.", "media")
        kind, width, height = facts
        media_id = self.state.ids.tweet()
        item = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(data),
            "expires_after_secs": 86400,
            "image": {"image_type": f"image/{kind}", "w": width, "h": height},
        }
        self.state.add(self.platform, "upload", {**item, "account_id": ""})
        return json_response({"data": item})

    @route("POST", rf"{ACC}/media_library")
    def add_media_library(self, request: Request, account: str) -> Response:
        params = self._params(request, "media_key")
        upload = next(
            (
                row
                for row in self.state.all(self.platform, "upload")
                if row["media_key"] == params["media_key"]
            ),
            None,
        )
        if upload is None:
            raise invalid(f"media_key {params['media_key']} was not uploaded", "media_key")
        image = upload["image"]
        entry = self._new(
            "media_library",
            account,
            {
                "media_key": upload["media_key"],
                "name": params.get("name"),
                "file_name": params.get("file_name"),
                "description": params.get("description"),
                "media_type": "IMAGE",
                "media_status": "TRANSCODE_COMPLETED",
                "aspect_ratio": f"{image['w']}:{image['h']}",
                "_size": (image["w"], image["h"]),
                "tweeted": False,
            },
        )
        return self._ok(_library_row(entry), request)

    @route("GET", rf"{ACC}/media_library")
    def list_media_library(self, request: Request, account: str) -> Response:
        return self._list(request, "media_library", account, {"media_type": "media_type"})

    @route("POST", rf"{ACC}/cards")
    def create_card(self, request: Request, account: str) -> Response:
        params = self._params(request, "name")
        components = (request.json() if request.body else {}).get("components")
        if not isinstance(components, list) or not components:
            raise invalid("components is missing", "components")
        self._check_components(account, components)
        card = self._new("card", account, {"name": params["name"], "components": components})
        card.update(card_uri=f"card://{card['id']}", card_type="IMAGE_WEBSITE")
        self.state.add(self.platform, "card", card)
        return self._ok(public(card), request)

    @route("GET", rf"{ACC}/cards")
    def list_cards(self, request: Request, account: str) -> Response:
        return self._list(request, "card", account, {"card_ids": "id"})

    def _check_components(self, account: str, components: list[Any]) -> None:
        by_type = {item.get("type"): item for item in components if isinstance(item, dict)}
        if sorted(str(kind) for kind in by_type) != ["DETAILS", "MEDIA"] or len(components) != 2:
            raise invalid("A website card has one MEDIA and one DETAILS component", "components")
        key = by_type["MEDIA"].get("media_key")
        entry = next(
            (
                row
                for row in self.state.all(self.platform, "media_library")
                if row["account_id"] == account and row["media_key"] == key and not row.get("deleted")
            ),
            None,
        )
        if entry is None:
            raise invalid(f"media_key {key} is not in this account's media library", "components")
        width, height = entry["_size"]
        if not any(abs(width / height - ratio) <= ratio * 0.01 for ratio in CARD_RATIOS):
            raise invalid(f"The image is {width}x{height}; a website card shows 1:1 or 1.91:1", "components")
        details = by_type["DETAILS"]
        title = str(details.get("title") or "")
        if not title or len(title) > TITLE_LIMIT:
            raise invalid(f"DETAILS title must have 1 to {TITLE_LIMIT} characters", "components")
        destination = details.get("destination") or {}
        if destination.get("type") != "WEBSITE" or not str(destination.get("url", "")).startswith("http"):
            raise invalid("DETAILS destination must be a WEBSITE with a url", "components")
        unknown = set(details) - {"type", "title", "destination"} | (
            set(by_type["MEDIA"]) - {"type", "media_key"}
        )
        if unknown:
            raise invalid(f"{sorted(unknown)[0]} is not a field of this component", "components")


def card_by_uri(state: SandboxState, account: str, card_uri: str) -> dict[str, Any] | None:
    """The account's live card with this ``card_uri``, or None."""
    return next(
        (
            row
            for row in state.all("x", "card")
            if row["account_id"] == account and row.get("card_uri") == card_uri and not row["deleted"]
        ),
        None,
    )


def _library_row(entry: dict[str, Any]) -> dict[str, Any]:
    row = public(entry)
    row.pop("id", None)  # the library is keyed by media_key
    return row
