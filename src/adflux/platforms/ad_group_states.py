"""Pausing and resuming single ad groups (ad set, ad group, line item, ad squad) on a live campaign.

:func:`set_ad_group_states` takes the desired state of each ad group ("active" or "paused", by
our ad-group ref) and sends it through each platform's own status update: Meta ``POST /<adset>``
``status``, Google ``adGroupOperation`` ``update`` with ``updateMask: status``, TikTok
``adgroup/status/update/`` (and ``ad/status/update/`` before a resume, bottom-up as the campaign's
activation does), X ``PUT line_items/:id`` ``entity_status``, Snapchat a whole-entity ``PUT`` of
the ad squad (and its ad). Values are absolute, so sending the same states again changes nothing.

:func:`without_paused` is what a campaign-level resume activates: the tree minus the ad groups
paused on their own, so resuming a campaign never restarts what a rule stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adflux.platforms.base import PlatformAdapter
from adflux.platforms.errors import PlatformValidationError
from adflux.platforms.types import PublishResult

STATES = ("active", "paused")

StateSetter = Callable[[Any, PublishResult, dict[str, str]], list[str]]
SETTERS: dict[str, StateSetter] = {}


def _setter(platform: str) -> Callable[[StateSetter], StateSetter]:
    def register(function: StateSetter) -> StateSetter:
        SETTERS[platform] = function
        return function

    return register


def set_ad_group_states(adapter: PlatformAdapter, result: PublishResult, states: dict[str, str]) -> list[str]:
    """Send each named ad group's state (ref -> "active"/"paused"); the operations sent, in order."""
    if adapter.platform not in SETTERS:
        raise PlatformValidationError(
            f"{adapter.platform} has no ad-group status path", platform=adapter.platform
        )
    bad = sorted(state for state in states.values() if state not in STATES)
    if bad:
        raise ValueError(f"an ad group is active or paused, not {bad[0]!r}")
    known = {ref: state for ref, state in states.items() if ref in result.ad_groups}
    if not known:
        return []
    return SETTERS[adapter.platform](adapter, result, known)


def without_paused(result: PublishResult, paused_refs: set[str]) -> PublishResult:
    """The tree a campaign-level activation should touch: every ad group except those paused alone."""
    if not paused_refs:
        return result
    return replace(
        result,
        ad_groups={ref: id_ for ref, id_ in result.ad_groups.items() if ref not in paused_refs},
        ads={ref: id_ for ref, id_ in result.ads.items() if ref not in paused_refs},
    )


@_setter("meta")
def _meta(adapter: Any, result: PublishResult, states: dict[str, str]) -> list[str]:
    sent = []
    for ref, state in states.items():
        value = "ACTIVE" if state == "active" else "PAUSED"
        if state == "active" and ref in result.ads:  # an ad set delivers only through active ads
            adapter._post(result.ads[ref], "update_ad", {"status": value})
            sent.append("update_ad")
        adapter._post(result.ad_groups[ref], "update_adset", {"status": value})
        sent.append("update_adset")
    return sent


@_setter("google")
def _google(adapter: Any, result: PublishResult, states: dict[str, str]) -> list[str]:
    operations = [
        {
            "adGroupOperation": {
                "update": {
                    "resourceName": f"customers/{adapter.cid}/adGroups/{result.ad_groups[ref]}",
                    "status": "ENABLED" if state == "active" else "PAUSED",
                },
                "updateMask": "status",
            }
        }
        for ref, state in states.items()
    ]
    adapter._mutate(operations, "update_ad_group_status")  # one atomic request for every group
    return ["update_ad_group_status"]


@_setter("tiktok")
def _tiktok(adapter: Any, result: PublishResult, states: dict[str, str]) -> list[str]:
    sent = []
    for state in STATES:
        refs = [ref for ref, wanted in states.items() if wanted == state]
        if not refs:
            continue
        value = "ENABLE" if state == "active" else "DISABLE"
        ads = [result.ads[ref] for ref in refs if ref in result.ads]
        if state == "active" and ads:
            adapter._post("ad/status/update/", "update_ads", {"ad_ids": ads, "operation_status": value})
            sent.append("update_ads")
        groups = [result.ad_groups[ref] for ref in refs]
        adapter._post(
            "adgroup/status/update/", "update_adgroups", {"adgroup_ids": groups, "operation_status": value}
        )
        sent.append("update_adgroups")
    return sent


@_setter("x")
def _x(adapter: Any, result: PublishResult, states: dict[str, str]) -> list[str]:
    for ref, state in states.items():
        adapter._call(
            "PUT",
            adapter._acc(f"/line_items/{result.ad_groups[ref]}"),
            "update_line_item",
            params={"entity_status": "ACTIVE" if state == "active" else "PAUSED"},
        )
    return ["update_line_item"] * len(states)


@_setter("snapchat")
def _snapchat(adapter: Any, result: PublishResult, states: dict[str, str]) -> list[str]:
    sent = []
    for ref, state in states.items():
        value = "ACTIVE" if state == "active" else "PAUSED"
        squad_id = result.ad_groups[ref]
        if state == "active" and ref in result.ads:
            adapter._put_whole("ads", result.ads[ref], f"adsquads/{squad_id}/ads", value)
            sent.append("update_ad")
        adapter._put_whole("adsquads", squad_id, f"campaigns/{result.campaign_id}/adsquads", value)
        sent.append("update_adsquad")
    return sent
