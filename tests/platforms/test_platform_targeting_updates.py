"""Ad-group targeting changed in place on all five platforms, over real HTTP to the loopback sandbox.

The wire-contract fixture checks every request against the platforms' own client libraries.
"""

from __future__ import annotations

from typing import Any

import pytest

from adflux.platforms.geo import PLACES
from adflux.platforms.types import JobContext, TargetingSpec
from adflux.platforms.updates import CampaignChange, apply_change

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]
MEDELLIN = PLACES["medellin"]
JOB = JobContext(title="Desarrollador Python", category="tecnologia", city="Medellín")
# A marketer's wishes after the opening moved: Medellín, a narrow age band, a gender, new interests.
WISHES = TargetingSpec(
    age_min=22, age_max=35, genders=("male",), cities=("Medellín",), interests=("django", "backend")
)


def _change(revision: int = 1) -> CampaignChange:
    return CampaignChange(
        key="pc-1",
        revision=revision,
        job=JOB,
        targeting={"seg-1": WISHES, "broad": TargetingSpec(cities=("Medellín",))},
    )


def _places(sandbox: Any, platform: str, result: Any) -> dict[str, Any]:
    """What each ad group (or, on Google, the campaign) now targets, as the platform holds it."""
    state, groups = sandbox.state, result.ad_groups
    if platform == "meta":
        out = {}
        for ref, adset_id in groups.items():
            targeting = state.get("meta", "adset", adset_id)["targeting"]
            geo = targeting["geo_locations"]
            names = [loc["name"] for loc in geo.get("custom_locations", [])] or geo["countries"]
            out[ref] = (names, targeting["age_min"], targeting["age_max"], "genders" in targeting)
        return out
    if platform == "tiktok":
        return {
            ref: (
                state.get("tiktok", "adgroup", gid)["location_ids"],
                state.get("tiktok", "adgroup", gid)["gender"],
            )
            for ref, gid in groups.items()
        }
    if platform == "snapchat":
        out = {}
        for ref, squad_id in groups.items():
            locations = state.get("snapchat", "adsquad", squad_id)["targeting"].get("locations") or [{}]
            circles = locations[0].get("circles", [])
            out[ref] = [(c["latitude"], c["longitude"]) for c in circles]
        return out
    if platform == "x":
        out = {}
        for ref, item_id in groups.items():
            live = [
                (c["targeting_type"], c["targeting_value"])
                for c in state.all("x", "targeting_criterion")
                if c["line_item_id"] == item_id and not c.get("deleted")
            ]
            out[ref] = sorted(live)
        return out
    points = sorted(
        (
            c["proximity"]["geoPoint"]["latitudeInMicroDegrees"],
            c["proximity"]["geoPoint"]["longitudeInMicroDegrees"],
        )
        for c in state.all("google", "campaign_criterion")
        if "proximity" in c and c.get("status") != "REMOVED"
    )
    keywords = {
        ref: sorted(
            c["keyword"]["text"]
            for c in state.all("google", "ad_group_criterion")
            if "keyword" in c and c["adGroup"].endswith(f"/{gid}") and c.get("status") != "REMOVED"
        )
        for ref, gid in groups.items()
    }
    return {"points": points, "keywords": keywords}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_targeting_changes_in_place_compliant_and_twice_is_once(platform, sandbox, adapter_for, make_spec):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    adapter.activate(result)
    ids_before = (result.campaign_id, dict(result.ad_groups), dict(result.ads))
    before = _places(sandbox, platform, result)

    sent = apply_change(adapter, result, _change())
    after = _places(sandbox, platform, result)
    assert sent and after != before
    assert (result.campaign_id, result.ad_groups, result.ads) == ids_before  # same objects, in place
    _assert_medellin_and_compliant(platform, after)

    again = apply_change(adapter, result, _change(revision=2))  # a redelivered task, or a retry
    assert _places(sandbox, platform, result) == after
    if platform in ("google", "x"):  # they read first and send only a difference: none now
        assert again == []


def _assert_medellin_and_compliant(platform: str, after: dict[str, Any]) -> None:
    if platform == "meta":
        for names, age_min, age_max, genders in after.values():
            assert names == ["Medellín"]
            assert (age_min, age_max, genders) == (18, 65, False)  # Employment: no age band, no gender
    elif platform == "tiktok":
        for locations, gender in after.values():
            assert locations == [str(MEDELLIN.geonames_id)] and gender == "GENDER_UNLIMITED"
    elif platform == "snapchat":
        for circles in after.values():
            assert circles == [(MEDELLIN.latitude, MEDELLIN.longitude)]
    elif platform == "x":
        for criteria in after.values():
            assert [kind for kind, _ in criteria].count("LOCATION") == 1
        assert ("BROAD_KEYWORD", "django") in after["seg-1"]
        assert ("BROAD_KEYWORD", "software") not in after["seg-1"]  # the old interest deleted
    else:
        assert after["points"] == [(round(MEDELLIN.latitude * 1e6), round(MEDELLIN.longitude * 1e6))]
        assert after["keywords"]["seg-1"] == ["backend", "django"]
