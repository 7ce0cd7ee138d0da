"""Tracking links: one per ad group, a short code for `/r/<code>` or the portal's URL with UTM values."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import AdGroup, Campaign, JobOpening, PlatformCampaign, TrackingLink
from adflux.services.errors import NotFound, ValidationFailed

MODES = ("redirect", "utm")
# AdFlux's own click id travels in this query parameter (redirect target and UTM links alike).
CLICK_ID_PARAM = "afcid"


@dataclass(frozen=True)
class LinkTarget:
    """What a click needs from its link, kept per process (links never change once made)."""

    code: str
    campaign_id: int
    platform: str
    ad_group_id: int | None
    segment_id: int | None
    creative_id: int | None
    destination_url: str


def _new_code() -> str:
    return secrets.token_urlsafe(6)  # 8 URL-safe characters, 48 random bits


def ensure_campaign_links(*, campaign_id: int, mode: str = "redirect") -> list[TrackingLink]:
    """One tracking link per ad group of the campaign (made once; existing ones are kept)."""
    if mode not in MODES:
        raise ValidationFailed(
            _("mode must be one of %(value)s", value=", ".join(MODES)), errors={"mode": ["unknown mode"]}
        )
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s not found", campaign_id=campaign_id))
    job = db.session.get(JobOpening, campaign.job_id)
    destination = (job.apply_url if job is not None else None) or "https://example.invalid/"
    reference = job.external_ref if job is not None else None
    rows = db.session.execute(
        select(AdGroup, PlatformCampaign.platform)
        .join(PlatformCampaign, AdGroup.platform_campaign_id == PlatformCampaign.id)
        .where(PlatformCampaign.campaign_id == campaign_id)
    ).all()
    existing = {
        link.ad_group_id: link
        for link in db.session.scalars(select(TrackingLink).where(TrackingLink.campaign_id == campaign_id))
    }
    links = []
    for group, platform in rows:
        link = existing.get(group.id)
        if link is None:
            link = TrackingLink(
                code=_new_code(),
                campaign_id=campaign_id,
                platform=platform,
                ad_group_id=group.id,
                segment_id=group.segment_id,
                job_reference=reference,
                destination_url=destination,
                mode=mode,
            )
            db.session.add(link)
        links.append(link)
    db.session.commit()
    return links


def create_link(
    *,
    campaign_id: int,
    platform: str,
    destination_url: str,
    ad_group_id: int | None = None,
    segment_id: int | None = None,
    creative_id: int | None = None,
    job_reference: str | None = None,
    mode: str = "redirect",
) -> TrackingLink:
    """A tracking link for explicit values (imports, tests and the bench)."""
    if mode not in MODES:
        raise ValidationFailed(
            _("mode must be one of %(value)s", value=", ".join(MODES)), errors={"mode": ["unknown mode"]}
        )
    if not destination_url.startswith(("https://", "http://")):
        raise ValidationFailed(
            _("destination_url must be an http(s) URL"), errors={"destination_url": ["not an http(s) URL"]}
        )
    link = TrackingLink(
        code=_new_code(),
        campaign_id=campaign_id,
        platform=platform,
        ad_group_id=ad_group_id,
        segment_id=segment_id,
        creative_id=creative_id,
        job_reference=job_reference,
        destination_url=destination_url,
        mode=mode,
    )
    db.session.add(link)
    db.session.commit()
    return link


def utm_values(link: TrackingLink | LinkTarget) -> dict[str, str]:
    """The UTM values AdFlux puts on the portal's URL (and reads back from postbacks)."""
    values = {
        "utm_source": link.platform,
        "utm_medium": "paid_social" if link.platform != "google" else "cpc",
        "utm_campaign": f"adflux-{link.campaign_id}",
    }
    if link.ad_group_id is not None:
        values["utm_content"] = f"adgroup-{link.ad_group_id}"
    return values


def ad_url(link: TrackingLink, *, base_url: str) -> str:
    """The URL an ad points at: the short redirect, or the portal's page with UTM values."""
    if link.mode == "redirect":
        return f"{base_url.rstrip('/')}/r/{link.code}"
    return with_params(link.destination_url, {**utm_values(link), "afl": link.code})


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query (existing values of the same names replaced)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
