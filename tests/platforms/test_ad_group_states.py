"""Pausing and resuming single ad groups on each platform, over real HTTP to the loopback sandbox."""

from __future__ import annotations

import pytest

from adflux.platforms.ad_group_states import set_ad_group_states, without_paused

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]
KIND = {"meta": "adset", "google": "ad_group", "x": "line_item", "tiktok": "adgroup", "snapchat": "adsquad"}
FIELD = {"meta": "status", "google": "status", "x": "entity_status", "tiktok": "operation_status"}
ON = {"meta": "ACTIVE", "google": "ENABLED", "x": "ACTIVE", "tiktok": "ENABLE", "snapchat": "ACTIVE"}


def _states(sandbox, platform: str, result) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Per ad-group ref: is it switched on at the platform, and does the simulator deliver it."""
    out = {}
    for ref, group_id in result.ad_groups.items():
        group = sandbox.state.get(platform, KIND[platform], group_id)
        on = group[FIELD.get(platform, "status")] == ON[platform]
        unit = sandbox.state.unit(platform, group_id)
        delivers = unit is not None and unit.active_on(sandbox.state.today)
        out[ref] = (on, delivers)
    return out


@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_ad_group_pauses_and_resumes_alone_and_twice_is_once(platform, sandbox, adapter_for, make_spec):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    adapter.activate(result)
    assert _states(sandbox, platform, result) == {"seg-1": (True, True), "broad": (True, True)}

    sent = set_ad_group_states(adapter, result, {"seg-1": "paused"})
    assert sent
    assert _states(sandbox, platform, result) == {"seg-1": (False, False), "broad": (True, True)}
    set_ad_group_states(adapter, result, {"seg-1": "paused"})  # a redelivered task
    assert _states(sandbox, platform, result) == {"seg-1": (False, False), "broad": (True, True)}

    set_ad_group_states(adapter, result, {"seg-1": "active", "unknown-ref": "paused"})
    assert _states(sandbox, platform, result) == {"seg-1": (True, True), "broad": (True, True)}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_resuming_the_campaign_leaves_an_ad_group_paused_alone_paused(
    platform, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    adapter.activate(result)
    set_ad_group_states(adapter, result, {"seg-1": "paused"})
    adapter.set_status(result, "paused")
    assert not any(delivers for _on, delivers in _states(sandbox, platform, result).values())

    adapter.set_status(without_paused(result, {"seg-1"}), "active")
    assert _states(sandbox, platform, result) == {"seg-1": (False, False), "broad": (True, True)}


@pytest.mark.parametrize("platform", ["tiktok", "meta"])
def test_resuming_a_campaign_whose_every_ad_group_is_paused_delivers_nothing(
    platform, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    adapter.activate(result)
    set_ad_group_states(adapter, result, {"seg-1": "paused", "broad": "paused"})
    adapter.set_status(result, "paused")
    adapter.set_status(without_paused(result, {"seg-1", "broad"}), "active")
    assert _states(sandbox, platform, result) == {"seg-1": (False, False), "broad": (False, False)}


def test_a_state_other_than_active_or_paused_is_refused_before_any_call(sandbox, adapter_for, make_spec):
    adapter = adapter_for("meta")
    result = adapter.publish(make_spec())
    with pytest.raises(ValueError, match="archived"):
        set_ad_group_states(adapter, result, {"seg-1": "archived"})
