"""X website cards: the job's image (a media-library ``media_key``) and the application link.

``POST /12/accounts/:id/cards`` with the current API's components — MEDIA (the ``media_key``) and
DETAILS (a title of at most 70 characters and a WEBSITE destination) — gives a ``card_uri`` that
the promoted-only post carries. Cards are named with our reference, so a retry finds the card an
earlier attempt made instead of making another.
"""

from __future__ import annotations

from typing import Any

from adflux.platforms.base import object_name
from adflux.platforms.types import CampaignSpec, CreativeSpec

TITLE_LIMIT = 70
FALLBACK_TITLE = "Oferta de empleo"


def card_title(spec: CampaignSpec) -> str:
    """The first wording that fits whole: the headline, the job title, else a generic one (never cut)."""
    return _title(spec.creative, spec.job.title)


def copy_title(creative: CreativeSpec) -> str:
    """A card title from the copy alone (a change of copy carries no job)."""
    return _title(creative, None)


def _title(creative: CreativeSpec, job_title: str | None) -> str:
    for text in (creative.headline, job_title):
        if text and len(text.strip()) <= TITLE_LIMIT:
            return text.strip()
    return FALLBACK_TITLE


def card_components(creative: CreativeSpec, title: str, media_key: str) -> list[dict[str, Any]]:
    return [
        {"type": "MEDIA", "media_key": media_key},
        {"type": "DETAILS", "title": title, "destination": {"type": "WEBSITE", "url": creative.link_url}},
    ]


def website_card(adapter: Any, spec: CampaignSpec) -> str | None:
    """The ``card_uri`` of the campaign's website card (found by name, else created); None without
    an image."""
    return card_for(adapter, spec.creative, object_name(spec.key, "card"), card_title(spec))


def card_for(adapter: Any, creative: CreativeSpec, name: str, title: str) -> str | None:
    """The ``card_uri`` of the card `name` for this copy (found, else created); None without an image."""
    media_key = creative.extra.get("media_key")
    if not media_key:
        return None
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
    body = {"name": name, "components": card_components(creative, title, str(media_key))}
    created = adapter._call("POST", cards, "create_card", json=body)
    return str(created["data"]["card_uri"])
