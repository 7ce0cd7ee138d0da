"""The campaign state machine, enforced in one place.

draft ──publish──▶ publishing ──▶ active | partially_active | failed
failed / partially_active ──retry──▶ publishing
active / partially_active ⇄ paused
active / partially_active / paused ──▶ completed
any but publishing ──▶ archived
"""

from __future__ import annotations

from adflux.services.errors import InvalidTransition

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"publishing", "archived"}),
    "publishing": frozenset({"active", "partially_active", "failed", "publishing"}),
    "active": frozenset({"paused", "completed", "archived", "partially_active"}),
    "partially_active": frozenset({"publishing", "paused", "completed", "archived", "active"}),
    "failed": frozenset({"publishing", "archived"}),
    "paused": frozenset({"active", "partially_active", "completed", "archived"}),
    "completed": frozenset({"archived"}),
    "archived": frozenset(),
}

# What a person asks for, and the states from which it is allowed.
ACTIONS: dict[str, frozenset[str]] = {
    "publish": frozenset({"draft"}),
    "retry_failed": frozenset({"failed", "partially_active"}),
    "pause": frozenset({"active", "partially_active"}),
    "resume": frozenset({"paused"}),
    "complete": frozenset({"active", "partially_active", "paused"}),
    "archive": frozenset({"draft", "active", "partially_active", "failed", "paused", "completed"}),
}

_ACTION_WORDS = {
    "publish": "published",
    "retry_failed": "retried",
    "pause": "paused",
    "resume": "resumed",
    "complete": "completed",
    "archive": "archived",
}


def can_transition(current: str, target: str) -> bool:
    """Whether the machine allows `current` → `target`."""
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str, *, campaign_id: int | None = None) -> None:
    """Raise InvalidTransition (409) unless `current` → `target` is allowed."""
    if not can_transition(current, target):
        subject = f"Campaign {campaign_id}" if campaign_id is not None else "The campaign"
        raise InvalidTransition(f"{subject} cannot go from {current} to {target}")


def check_action(action: str, current: str, *, campaign_id: int | None = None) -> None:
    """Raise InvalidTransition (409) unless `action` may be taken in state `current`."""
    allowed = ACTIONS[action]
    if current not in allowed:
        subject = f"Campaign {campaign_id}" if campaign_id is not None else "The campaign"
        raise InvalidTransition(
            f"{subject} is {current} and cannot be {_ACTION_WORDS[action]} "
            f"(allowed from: {', '.join(sorted(allowed))})"
        )


def settled_status(platform_statuses: list[str]) -> str:
    """The campaign status implied by its platform campaigns' statuses after publishing."""
    if any(s in ("pending", "publishing") for s in platform_statuses):
        return "publishing"
    live = [s for s in platform_statuses if s in ("active", "paused")]
    failed = [s for s in platform_statuses if s == "failed"]
    if live and not failed:
        return "active"
    if live and failed:
        return "partially_active"
    return "failed"
