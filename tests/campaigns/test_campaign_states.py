"""The campaign state machine, exhaustively."""

from __future__ import annotations

import itertools

import pytest

from adflux.constants import CAMPAIGN_STATUSES, STATUS_NAMES_ES
from adflux.services.campaign_states import (
    ACTIONS,
    TRANSITIONS,
    check_action,
    check_transition,
    settled_status,
)
from adflux.services.errors import InvalidTransition

ALLOWED = {
    ("draft", "publishing"), ("draft", "archived"),
    ("publishing", "active"), ("publishing", "partially_active"), ("publishing", "failed"),
    ("publishing", "publishing"),
    ("active", "paused"), ("active", "completed"), ("active", "archived"), ("active", "partially_active"),
    ("partially_active", "publishing"), ("partially_active", "paused"), ("partially_active", "completed"),
    ("partially_active", "archived"), ("partially_active", "active"),
    ("failed", "publishing"), ("failed", "archived"),
    ("paused", "active"), ("paused", "partially_active"), ("paused", "completed"), ("paused", "archived"),
    ("completed", "archived"),
    # an action that reached only some platforms leaves its partial status, until it is finished
    ("active", "partially_paused"), ("active", "partially_completed"), ("active", "partially_archived"),
    ("partially_active", "partially_paused"), ("partially_active", "partially_completed"),
    ("partially_active", "partially_archived"),
    ("paused", "partially_paused"), ("paused", "partially_completed"), ("paused", "partially_archived"),
    ("failed", "partially_archived"),
    ("partially_paused", "paused"), ("partially_paused", "active"), ("partially_paused", "partially_active"),
    ("partially_paused", "completed"), ("partially_paused", "archived"),
    ("partially_paused", "partially_paused"), ("partially_paused", "partially_completed"),
    ("partially_paused", "partially_archived"),
    ("partially_completed", "completed"), ("partially_completed", "archived"),
    ("partially_completed", "partially_completed"), ("partially_completed", "partially_archived"),
    ("completed", "partially_archived"),
    ("partially_archived", "archived"), ("partially_archived", "partially_archived"),
}  # fmt: skip


def test_every_status_is_in_the_machine():
    assert set(TRANSITIONS) == set(CAMPAIGN_STATUSES)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(CAMPAIGN_STATUSES, repeat=2)))
def test_each_pair_of_states_is_allowed_exactly_when_specified(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        words = f"de {STATUS_NAMES_ES[current]} a {STATUS_NAMES_ES[target]}"  # Spanish first
        with pytest.raises(InvalidTransition, match=words):
            check_transition(current, target)


@pytest.mark.parametrize(("action", "current"), list(itertools.product(ACTIONS, CAMPAIGN_STATUSES)))
def test_actions_are_refused_outside_their_states_with_a_clear_message(action, current):
    if current in ACTIONS[action]:
        check_action(action, current, campaign_id=7)
    else:
        with pytest.raises(
            InvalidTransition, match=f"La campaña 7 está en estado «{STATUS_NAMES_ES[current]}»"
        ):
            check_action(action, current, campaign_id=7)


def test_archived_is_final():
    assert TRANSITIONS["archived"] == frozenset()


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["active", "active"], "active"),
        (["active", "failed"], "partially_active"),
        (["failed", "failed"], "failed"),
        (["active", "publishing"], "publishing"),
        (["pending"], "publishing"),
        (["paused", "failed"], "partially_active"),
    ],
)
def test_settled_status_follows_the_platforms(statuses, expected):
    assert settled_status(statuses) == expected
