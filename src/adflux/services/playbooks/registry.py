"""Playbooks: save (checked whole), list in their order, change, enable or disable, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import CAMPAIGN_OBJECTIVES, PLATFORMS
from adflux.extensions import db
from adflux.models import Playbook, Segment
from adflux.services import audit
from adflux.services.errors import Conflict, NotFound, ValidationFailed
from adflux.services.playbooks.policy import check_conditions, check_formula

FIELDS = (
    "name",
    "position",
    "enabled",
    "conditions",
    "platforms",
    "segment_ids",
    "best_segments",
    "budget_total",
    "budget_formula",
    "budget_daily",
    "flight_days",
    "target_cpa",
    "objective",
    "requires_approval",
)
MIN_BUDGET = 10_000  # COP per platform, as campaigns require


def list_playbooks() -> list[Playbook]:
    """Every playbook in the order they are tried (position, then age)."""
    return list(db.session.scalars(select(Playbook).order_by(Playbook.position, Playbook.id)))


def get_playbook(*, playbook_id: int) -> Playbook:
    playbook = db.session.get(Playbook, playbook_id)
    if playbook is None:
        raise NotFound(_("Playbook %(playbook_id)s does not exist", playbook_id=playbook_id))
    return playbook


def create_playbook(*, data: dict[str, Any]) -> Playbook:
    """Save a new playbook after checking every part of it."""
    clean = _checked({"conditions": {}, "segment_ids": [], "objective": "traffic", **data})
    _unique_name(clean["name"], None)
    playbook = Playbook(**clean)
    db.session.add(playbook)
    db.session.flush()
    audit.record("playbook.create", entity_type="playbook", entity_id=playbook.id, after=_snapshot(playbook))
    db.session.commit()
    return playbook


def update_playbook(*, playbook_id: int, changes: dict[str, Any]) -> Playbook:
    """Change a playbook; the result is checked whole, as on creation."""
    playbook = get_playbook(playbook_id=playbook_id)
    before = _snapshot(playbook)
    merged = {**before, **changes}
    clean = _checked(merged)
    _unique_name(clean["name"], playbook.id)
    for name, value in clean.items():
        setattr(playbook, name, value)
    audit.record(
        "playbook.update",
        entity_type="playbook",
        entity_id=playbook.id,
        before=before,
        after=_snapshot(playbook),
    )
    db.session.commit()
    return playbook


def set_enabled(*, playbook_id: int, enabled: bool) -> Playbook:
    return update_playbook(playbook_id=playbook_id, changes={"enabled": enabled})


def delete_playbook(*, playbook_id: int) -> None:
    """Delete a playbook; the campaigns it made stay (they forget which playbook made them)."""
    playbook = get_playbook(playbook_id=playbook_id)
    audit.record("playbook.delete", entity_type="playbook", entity_id=playbook.id, before=_snapshot(playbook))
    db.session.delete(playbook)
    db.session.commit()


def _snapshot(playbook: Playbook) -> dict[str, Any]:
    return {name: getattr(playbook, name) for name in FIELDS}


def _unique_name(name: str, own_id: int | None) -> None:
    other = db.session.scalar(select(Playbook.id).where(Playbook.name == name))
    if other is not None and other != own_id:
        raise Conflict(_("A playbook called %(name)r already exists", name=name))


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean = {k: v for k, v in data.items() if k in FIELDS}
    name = str(clean.get("name") or "").strip()
    if not 2 <= len(name) <= 120:
        errors["name"] = ["2 to 120 characters"]
    clean["name"] = name
    platforms = [str(p).strip().lower() for p in clean.get("platforms") or []]
    if not platforms or set(platforms) - set(PLATFORMS) or len(set(platforms)) != len(platforms):
        errors["platforms"] = [f"one or more of {', '.join(PLATFORMS)}, each once"]
    clean["platforms"] = platforms
    _check_money(clean, platforms, errors)
    _check_segments(clean, errors)
    if clean.get("objective", "traffic") not in CAMPAIGN_OBJECTIVES:
        errors["objective"] = [f"one of {', '.join(CAMPAIGN_OBJECTIVES)}"]
    flight = clean.get("flight_days")
    if flight is not None and not 1 <= flight <= 365:
        errors["flight_days"] = ["1 to 365 days, or empty for 'until the job closes'"]
    if errors:
        raise ValidationFailed(_("The playbook is invalid"), errors=errors)
    clean["conditions"] = check_conditions(clean.get("conditions") or {})
    if clean.get("budget_formula"):
        clean["budget_formula"] = check_formula(clean["budget_formula"])
    return clean


def _check_money(clean: dict[str, Any], platforms: list[str], errors: dict[str, list[str]]) -> None:
    total, formula = clean.get("budget_total"), (clean.get("budget_formula") or "").strip() or None
    clean["budget_formula"] = formula
    if (total is None) == (formula is None):
        errors["budget_total"] = ["give either a fixed budget or a budget formula (one of them)"]
    elif total is not None and total < MIN_BUDGET * max(1, len(platforms)):
        errors["budget_total"] = [
            f"at least {MIN_BUDGET * max(1, len(platforms))} COP for {len(platforms)} platforms"
        ]
    for name in ("budget_daily", "target_cpa"):
        value = clean.get(name)
        if value is not None and value <= 0:
            errors[name] = ["must be positive"]


def _check_segments(clean: dict[str, Any], errors: dict[str, list[str]]) -> None:
    ids = list(clean.get("segment_ids") or [])
    best = clean.get("best_segments")
    if ids and best:
        errors["segment_ids"] = ["name segments or ask for the best k, not both"]
    if best is not None and not 1 <= best <= 20:
        errors["best_segments"] = ["1 to 20"]
    if ids:
        found = set(db.session.scalars(select(Segment.id).where(Segment.id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            errors["segment_ids"] = [f"unknown segment(s): {', '.join(map(str, missing))}"]
    clean["segment_ids"] = ids
