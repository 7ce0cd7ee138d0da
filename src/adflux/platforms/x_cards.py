"""X website cards: the job's image (a media-library ``media_key``) and the application link.

``POST /12/accounts/:id/cards`` with the current API's components — MEDIA (the ``media_key``) and
DETAILS (a title of at most 70 characters and a WEBSITE destination) — gives a ``card_uri`` that
the promoted-only post carries. Cards are named with our reference, so a retry finds the card an
earlier attempt made instead of making another.
"""

from __future__ import annotations

from typing import Any

from adflux.platforms.base import object_name
from adflux.platforms.types import CampaignSpec

TITLE_LIMIT = 70
FALLBACK_TITLE = "Oferta de empleo"


def card_title(spec: CampaignSpec) -> str:
    """The first wording that fits whole: the headline, the job title, else a generic one (never cut)."""
    for text in (spec.creative.headline, spec.job.title):
        if text and len(text.strip()) <= TITLE_LIMIT:
            return text.strip()
    return FALLBACK_TITLE


def card_components(spec: CampaignSpec, media_key: str) -> list[dict[str, Any]]:
    return [
        {"type": "MEDIA", "media_key": media_key},
        {
            "type": "DETAILS",
            "title": card_title(spec),
            "destination": {"type": "WEBSITE", "url": spec.creative.link_url},
        },
    ]


def website_card(adapter: Any, spec: CampaignSpec) -> str | None:
    """The ``card_uri`` of the campaign's website card (found by name, else created); None without
    an image."""
    media_key = spec.creative.extra.get("media_key")
    if not media_key:
        return None
    name = object_name(spec.key, "card")
    cards = adapter._acc("/cards")
    params: dict[str, Any] = {"count": 200, "q": name}
    while True:
        page = adapter._call("GET", cards, "list_cards", params=params)
        for row in page.get("data", []):
            if row.get("name") == name and not row.get("deleted"):
                return str(row["card_uri"])
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    body = {"name": name, "components": card_components(spec, str(media_key))}
    created = adapter._call("POST", cards, "create_card", json=body)
    return str(created["data"]["card_uri"])
