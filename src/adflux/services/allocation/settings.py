"""A campaign's allocation settings: on or off, and the limits a manager sets."""

from __future__ import annotations

from dataclasses import dataclass

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Campaign, CampaignAllocation
from adflux.optimization.allocation import Limits
from adflux.services import audit
from adflux.services.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class AllocationSettings:
    """What the allocator may do on one campaign."""

    campaign_id: int
    enabled: bool
    min_share: float
    max_move: float
    explore: float

    @property
    def limits(self) -> Limits:
        """The engine's limits."""
        return Limits(self.min_share, self.max_move, self.explore)


def get_settings(*, campaign_id: int) -> AllocationSettings:
    """The campaign's settings (defaults, switched off, when none were saved)."""
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    row = db.session.get(CampaignAllocation, campaign_id)
    defaults = Limits()
    if row is None:
        return AllocationSettings(campaign_id, False, defaults.min_share, defaults.max_move, defaults.explore)
    return AllocationSettings(campaign_id, row.enabled, row.min_share, row.max_move, row.explore)


def _check(min_share: float, max_move: float, explore: float) -> None:
    errors: dict[str, list[str]] = {}
    if not 0 <= min_share <= 0.5:
        errors["min_share"] = ["between 0 and 0.5 (a share of the daily budget)"]
    if not 0 < max_move <= 1:
        errors["max_move"] = ["above 0 and at most 1 (a share of the daily budget)"]
    if not 0 <= explore <= 0.2:
        errors["explore"] = ["between 0 and 0.2"]
    if errors:
        raise ValidationFailed(_("Invalid allocation limits"), errors=errors)


def configure(
    *,
    campaign_id: int,
    enabled: bool | None = None,
    min_share: float | None = None,
    max_move: float | None = None,
    explore: float | None = None,
    actor: str | None = None,
) -> AllocationSettings:
    """Switch the allocator on or off for a campaign and set its limits (audited)."""
    current = get_settings(campaign_id=campaign_id)
    wanted = AllocationSettings(
        campaign_id,
        current.enabled if enabled is None else bool(enabled),
        current.min_share if min_share is None else float(min_share),
        current.max_move if max_move is None else float(max_move),
        current.explore if explore is None else float(explore),
    )
    _check(wanted.min_share, wanted.max_move, wanted.explore)
    row = db.session.get(CampaignAllocation, campaign_id) or CampaignAllocation(campaign_id=campaign_id)
    row.enabled, row.min_share, row.max_move, row.explore = (
        wanted.enabled,
        wanted.min_share,
        wanted.max_move,
        wanted.explore,
    )
    row.updated_by = actor
    db.session.add(row)
    fields = ("enabled", "min_share", "max_move", "explore")
    audit.record(
        "allocation.configure",
        entity_type="campaign",
        entity_id=campaign_id,
        before={f: getattr(current, f) for f in fields},
        after={f: getattr(wanted, f) for f in fields},
    )
    db.session.commit()
    return wanted


def is_enabled(campaign_id: int) -> bool:
    """Whether the allocator owns this campaign's ad group budgets."""
    row = db.session.get(CampaignAllocation, campaign_id)
    return bool(row and row.enabled)
