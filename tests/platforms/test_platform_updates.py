"""In-place updates of live campaigns, over real HTTP to the loopback sandbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adflux.platforms.errors import PlatformValidationError
from adflux.platforms.types import CreativeSpec
from adflux.platforms.updates import CampaignChange, apply_change

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]
NEW_COPY = CreativeSpec(
    headline="Desarrollador Python Sr",
    primary_text="Salario mejorado: únete a nuestro equipo en Medellín.",
    link_url="https://empleos.example.co/ofertas/1?v=2",
    description="Contrato indefinido",
)


def _change(revision: int = 1, **overrides: object) -> CampaignChange:
    values: dict[str, object] = {
        "key": "pc-1",
        "revision": revision,
        "budget_total": 8_000_000,
        "ad_group_budgets": {"seg-1": 70_000, "broad": 40_000},
        "end_date": date(2025, 4, 30),
    }
    values.update(overrides)
    return CampaignChange(**values)  # type: ignore[arg-type]


def _state(sandbox, platform: str, result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Budgets and end date as the platform now holds them, in whole pesos."""
    state = sandbox.state
    if platform == "meta":
        adsets = [state.get("meta", "adset", i) for i in result.ad_groups.values()]
        campaign = state.get("meta", "campaign", result.campaign_id)
        return {
            "total": int(campaign["spend_cap"]),
            "daily": sorted(int(a["daily_budget"]) for a in adsets),
            "end": {a["end_time"][:10] for a in adsets},
        }
    if platform == "google":
        budget = next(iter(state.all("google", "campaign_budget")))
        campaign = next(iter(state.all("google", "campaign")))
        return {"daily": int(budget["amountMicros"]) // 10**6, "end": campaign["endDateTime"][:10]}
    if platform == "x":
        campaign = state.get("x", "campaign", result.campaign_id)
        items = [state.get("x", "line_item", i) for i in result.ad_groups.values()]
        return {
            "total": int(campaign["total_budget_amount_local_micro"]) // 10**6,
            "daily": int(campaign["daily_budget_amount_local_micro"]) // 10**6,
            "end": {item["end_time"][:10] for item in items},  # X schedules line items, not campaigns
        }
    if platform == "tiktok":
        groups = [state.get("tiktok", "adgroup", i) for i in result.ad_groups.values()]
        return {
            "total": int(state.get("tiktok", "campaign", result.campaign_id)["budget"]),
            "daily": sorted(int(g["budget"]) for g in groups),
            "end": {g["schedule_end_time"][:10] for g in groups},
        }
    squads = [state.get("snapchat", "adsquad", i) for i in result.ad_groups.values()]
    campaign = state.get("snapchat", "campaign", result.campaign_id)
    return {
        "total": int(campaign["lifetime_spend_cap_micro"]) // 10**6,
        "daily": sorted(int(s["daily_budget_micro"]) // 10**6 for s in squads),
        "end": campaign["end_time"][:10],
    }


EXPECTED = {
    "meta": {"total": 8_000_000, "daily": [40_000, 70_000], "end": {"2025-04-30"}},
    "google": {"daily": 110_000, "end": "2025-04-30"},
    "x": {"total": 8_000_000, "daily": 110_000, "end": {"2025-04-30"}},
    "tiktok": {"total": 8_000_000, "daily": [40_000, 70_000], "end": {"2025-04-30"}},
    "snapchat": {"total": 8_000_000, "daily": [40_000, 70_000], "end": "2025-05-01"},
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_budgets_and_end_date_change_in_place_and_twice_is_once(platform, sandbox, adapter_for, make_spec):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    adapter.activate(result)
    ids_before = (result.campaign_id, dict(result.ad_groups), dict(result.ads))

    sent = apply_change(adapter, result, _change())
    assert sent
    assert _state(sandbox, platform, result) == EXPECTED[platform]
    apply_change(adapter, result, _change())  # a redelivered task, or a retry after a lost response
    assert _state(sandbox, platform, result) == EXPECTED[platform]
    assert (result.campaign_id, result.ad_groups, result.ads) == ids_before


@pytest.mark.parametrize("platform", PLATFORMS)
def test_new_copy_reaches_the_existing_ads_and_a_repeat_makes_no_second_creative(
    platform, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    ads_before = dict(result.ads)
    change = CampaignChange(key="pc-1", revision=2, creative=NEW_COPY)

    apply_change(adapter, result, change)
    kind = "tweet" if platform == "x" else "creative"
    creatives_after_one = len(sandbox.state.all(platform, kind))
    again = apply_change(adapter, replace(result), change)
    assert len(sandbox.state.all(platform, kind)) == creatives_after_one
    assert "create_creative" not in again and "create_post" not in again
    if platform == "x":  # a post cannot be edited: the line items promote the new post instead
        for item_id in result.ad_groups.values():
            live = [p for p in sandbox.state.all("x", "promoted_tweet") if p["line_item_id"] == item_id]
            assert [p["tweet_id"] for p in live if not p.get("deleted")] == [result.creative_id]
        post = sandbox.state.get("x", "tweet", result.creative_id)
        assert NEW_COPY.link_url in post["full_text"]
        return
    assert result.ads == ads_before  # same ads, same history
    for ad_id in result.ads.values():
        ad = sandbox.state.get(platform, "ad_group_ad" if platform == "google" else "ad", ad_id)
        if platform == "meta":
            creative = sandbox.state.get("meta", "creative", ad["creative"]["id"])
            assert creative["object_story_spec"]["link_data"]["message"] == NEW_COPY.primary_text
        elif platform == "google":
            assert ad["ad"]["finalUrls"] == [NEW_COPY.link_url]
            headlines = [h["text"] for h in ad["ad"]["responsiveSearchAd"]["headlines"]]
            assert NEW_COPY.headline in headlines
        elif platform == "tiktok":
            assert ad["ad_text"] == NEW_COPY.primary_text
            assert ad["landing_page_url"] == NEW_COPY.link_url
        else:
            creative = sandbox.state.get("snapchat", "creative", ad["creative_id"])
            assert creative["web_view_properties"]["url"] == NEW_COPY.link_url


@pytest.mark.parametrize(
    ("platform", "method", "path", "kwargs"),
    [
        ("meta", "POST", "v{v}/{campaign}", {"data": {"objective": "OUTCOME_LEADS"}}),
        ("tiktok", "POST", "open_api/v1.3/campaign/update/", {"json": {"campaign_id": "{campaign}", "x": 1}}),
        ("tiktok", "POST", "open_api/v1.3/adgroup/update/", {"json": {"budget": 1}}),
        ("x", "PUT", "12/accounts/{account}/campaigns/{campaign}", {"params": {"objective": "REACH"}}),
    ],
)
@pytest.mark.sends_refused_requests
def test_sandbox_refuses_unknown_fields_and_missing_ids(
    platform, method, path, kwargs, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())
    fill = {"campaign": result.campaign_id, "account": adapter.account.account_id, "v": "XX"}
    url = path.replace("v{v}", adapter.api_version).format(**fill)
    body = {
        key: {k: (str(v).format(**fill) if isinstance(v, str) else v) for k, v in value.items()}
        for key, value in kwargs.items()
    }
    if platform == "tiktok":
        body["json"]["advertiser_id"] = adapter.account.account_id
    with pytest.raises(PlatformValidationError):
        adapter.transport.request(method, url, operation="probe", **body)


@pytest.mark.sends_refused_requests
def test_snapchat_put_must_carry_the_whole_entity(sandbox, adapter_for, make_spec):
    adapter = adapter_for("snapchat")
    result = adapter.publish(make_spec())
    squad_id = result.ad_groups["seg-1"]
    with pytest.raises(PlatformValidationError, match="required"):
        adapter.transport.request(
            "PUT",
            f"v1/campaigns/{result.campaign_id}/adsquads",
            operation="probe",
            json={"adsquads": [{"id": squad_id, "daily_budget_micro": 90_000_000_000}]},
        )
    assert sandbox.state.get("snapchat", "adsquad", squad_id)["daily_budget_micro"] != 90_000_000_000


def test_google_update_mask_cannot_name_an_immutable_field(sandbox, adapter_for, make_spec):
    adapter = adapter_for("google")
    result = adapter.publish(make_spec())
    campaign_rn = f"customers/{adapter.cid}/campaigns/{result.campaign_id}"
    with pytest.raises(PlatformValidationError):
        adapter._mutate(
            [
                {
                    "campaignOperation": {
                        "update": {"resourceName": campaign_rn, "advertisingChannelType": "DISPLAY"},
                        "updateMask": "advertisingChannelType",
                    }
                }
            ],
            "probe",
        )
