"""Campaign owners: who answers for a campaign and is told when it needs attention."""

from __future__ import annotations

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Campaign, User
from adflux.services import audit
from adflux.services.errors import NotFound, ValidationFailed

# Viewers only look: a campaign is owned by someone who can act on it.
OWNER_ROLES = ("manager", "admin")


def owner_id_of(campaign: Campaign) -> int | None:
    """The owner's user id: the one set, else whoever created the campaign."""
    return campaign.effective_owner_id


def owner_of(campaign: Campaign) -> User | None:
    """The owning user, if there is one and they are still active."""
    user_id = owner_id_of(campaign)
    user = db.session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.active else None


def set_owner(*, campaign_id: int, owner: int | str) -> Campaign:
    """Give a campaign to a manager or admin, named by user id or e-mail."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(id)s does not exist", id=campaign_id))
    user = _user(owner)
    if not user.active or user.role not in OWNER_ROLES:
        raise ValidationFailed(
            _("%(email)s cannot own campaigns: only active managers and admins can", email=user.email),
            errors={"owner": [_("must be an active manager or admin")]},
        )
    before = owner_id_of(campaign)
    campaign.owner_id = user.id
    audit.record(
        "campaign.owner",
        entity_type="campaign",
        entity_id=campaign.id,
        before={"owner_id": before},
        after={"owner_id": user.id, "owner": user.email},
    )
    db.session.commit()
    return campaign


def _user(owner: int | str) -> User:
    if isinstance(owner, int) or str(owner).isdigit():
        user = db.session.get(User, int(owner))
    else:
        user = db.session.query(User).filter(User.email == str(owner).strip().lower()).one_or_none()
    if user is None:
        raise NotFound(_("There is no user %(owner)s", owner=owner))
    return user
