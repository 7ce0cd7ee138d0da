"""Which platform campaign each object a platform created belongs to: one owner per id.

Publishing claims every id of a publish result before it records them. An id already linked to
another platform campaign of the same platform account is refused with a clear error (the
unique key on platform_objects backs this up against a concurrent claim), so one object's spend
can never be credited to two campaigns.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux.extensions import db
from adflux.models import PlatformCampaign, PlatformObject
from adflux.platforms.types import PublishResult
from adflux.services.errors import Conflict


class ObjectOwnedElsewhere(Conflict):
    """A platform handed back an id that is already another campaign's."""


def result_objects(result: PublishResult) -> Iterator[tuple[str, str]]:
    """(kind, external id) of every object a publish produced."""
    if result.campaign_id:
        yield "campaign", str(result.campaign_id)
    for value in result.ad_groups.values():
        yield "ad_group", str(value)
    if result.creative_id:
        yield "creative", str(result.creative_id)
    for value in result.ads.values():
        yield "ad", str(value)


def claim(pc: PlatformCampaign, result: PublishResult, *, account_ref: str) -> None:
    """Link every id of `result` to `pc` (in the caller's transaction), or raise ObjectOwnedElsewhere."""
    wanted = dict((external_id, kind) for kind, external_id in result_objects(result))
    if not wanted:
        return
    owned = db.session.execute(
        select(PlatformObject.external_id, PlatformObject.kind, PlatformObject.platform_campaign_id).where(
            PlatformObject.platform == pc.platform,
            PlatformObject.account_ref == account_ref,
            PlatformObject.external_id.in_(list(wanted)),
        )
    ).all()
    for external_id, kind, owner in owned:
        if owner != pc.id:
            raise _owned_elsewhere(pc, kind, external_id, owner)
    new = set(wanted) - {row.external_id for row in owned}
    for external_id in sorted(new):
        db.session.add(
            PlatformObject(
                platform=pc.platform,
                account_ref=account_ref,
                external_id=external_id,
                kind=wanted[external_id],
                platform_campaign_id=pc.id,
            )
        )
    try:
        db.session.flush()
    except IntegrityError:  # another worker claimed one of these ids meanwhile
        db.session.rollback()
        raise _owned_elsewhere(pc, "object", ", ".join(sorted(new)), None) from None


def _owned_elsewhere(
    pc: PlatformCampaign, kind: str, external_id: str, owner: int | None
) -> ObjectOwnedElsewhere:
    campaign = ""
    if owner is not None:
        other = db.session.get(PlatformCampaign, owner)
        campaign = f" (campaign {other.campaign_id})" if other is not None else ""
    return ObjectOwnedElsewhere(
        f"{pc.platform} returned {kind} id {external_id}, which is already linked to another"
        f" campaign{campaign}; nothing was recorded for campaign {pc.campaign_id}"
    )
