"""The campaign state machine, enforced in one place.

draft ──publish──▶ publishing ──▶ active | partially_active | failed
failed / partially_active ──retry──▶ publishing
active / partially_active ⇄ paused
active / partially_active / paused ──▶ completed
any but publishing ──▶ archived
an action that reaches only some platforms ──▶ partially_paused | partially_completed |
    partially_archived (or partially_active for resume), until retry_action finishes it
"""

from __future__ import annotations

from adflux.catalogue import current_locale
from adflux.catalogue import gettext as _
from adflux.constants import STATUS_NAMES_ES
from adflux.services.errors import InvalidTransition

# An action that reached only some platforms leaves the campaign in its partial status.
PARTIAL_ACTIONS = ("partially_paused", "partially_completed", "partially_archived")

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"publishing", "archived"}),
    "publishing": frozenset({"active", "partially_active", "failed", "publishing"}),
    "active": frozenset({"paused", "completed", "archived", "partially_active", *PARTIAL_ACTIONS}),
    "partially_active": frozenset(
        {"publishing", "paused", "completed", "archived", "active", *PARTIAL_ACTIONS}
    ),
    "failed": frozenset({"publishing", "archived", "partially_archived"}),
    "paused": frozenset({"active", "partially_active", "completed", "archived", *PARTIAL_ACTIONS}),
    "partially_paused": frozenset(
        {"paused", "active", "partially_active", "completed", "archived", *PARTIAL_ACTIONS}
    ),
    "partially_completed": frozenset({"completed", "archived", "partially_archived", "partially_completed"}),
    "completed": frozenset({"archived", "partially_archived"}),
    "partially_archived": frozenset({"archived", "partially_archived"}),
    "archived": frozenset(),
}

# What a person asks for, and the states from which it is allowed.
ACTIONS: dict[str, frozenset[str]] = {
    "publish": frozenset({"draft"}),
    "retry_failed": frozenset({"failed", "partially_active"}),
    "pause": frozenset({"active", "partially_active", "partially_paused"}),
    "resume": frozenset({"paused", "partially_paused"}),
    "complete": frozenset(
        {"active", "partially_active", "paused", "partially_paused", "partially_completed"}
    ),
    "archive": frozenset(
        {
            "draft",
            "active",
            "partially_active",
            "failed",
            "paused",
            "partially_paused",
            "completed",
            "partially_completed",
            "partially_archived",
        }
    ),
    # Finish an action that reached only some platforms (the campaign's pending_action).
    "retry_action": frozenset(
        {"partially_active", "partially_paused", "partially_completed", "partially_archived"}
    ),
}


def _action_words() -> dict[str, str]:
    """What each action does, as the refusal says it ("cannot be published" / "no se puede publicar")."""
    return {
        "publish": _("be published"),
        "retry_failed": _("be retried"),
        "pause": _("be paused"),
        "resume": _("be resumed"),
        "complete": _("be completed"),
        "archive": _("be archived"),
        "retry_action": _("be retried"),
    }


def _status(code: str) -> str:
    """A status as the reader says it: its Spanish name in Spanish, the code's words otherwise."""
    if current_locale().startswith("es"):
        return STATUS_NAMES_ES.get(code, code)
    return code.replace("_", " ")


def _subject(campaign_id: int | None) -> str:
    if campaign_id is None:
        return _("The campaign")
    return _("Campaign %(campaign_id)s", campaign_id=campaign_id)


def can_transition(current: str, target: str) -> bool:
    """Whether the machine allows `current` → `target`."""
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str, *, campaign_id: int | None = None) -> None:
    """Raise InvalidTransition (409) unless `current` → `target` is allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(
            _(
                "%(subject)s cannot go from %(current)s to %(target)s",
                subject=_subject(campaign_id),
                current=_status(current),
                target=_status(target),
            )
        )


def check_action(action: str, current: str, *, campaign_id: int | None = None) -> None:
    """Raise InvalidTransition (409) unless `action` may be taken in state `current`."""
    allowed = ACTIONS[action]
    if current not in allowed:
        raise InvalidTransition(
            _(
                "%(subject)s is %(current)s and cannot %(value)s (allowed from: %(value2)s)",
                subject=_subject(campaign_id),
                current=_status(current),
                value=_action_words()[action],
                value2=", ".join(_status(code) for code in sorted(allowed)),
            )
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
