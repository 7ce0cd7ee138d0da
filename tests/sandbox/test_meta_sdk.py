"""Fidelity: Meta's official facebook-business SDK works against the sandbox unchanged."""

from __future__ import annotations

import pytest
from facebook_business.adobjects.ad import Ad
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from adflux.sandbox import SandboxServer
from sandbox_oauth import ISSUED


@pytest.fixture
def account(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> AdAccount:
    # GRAPH must be set on the class: the SDK builds URLs from it on every call.
    monkeypatch.setattr(FacebookSession, "GRAPH", sandbox.base_url)
    api = FacebookAdsApi.init(access_token=ISSUED["meta"], crash_log=False, api_version="v26.0")
    return AdAccount("act_777", api=api)


def _campaign(account: AdAccount, name: str) -> Campaign:
    return account.create_campaign(
        params={
            Campaign.Field.name: name,
            Campaign.Field.objective: Campaign.Objective.outcome_traffic,
            Campaign.Field.status: Campaign.Status.paused,
            Campaign.Field.special_ad_categories: [Campaign.SpecialAdCategories.employment],
            Campaign.Field.special_ad_category_country: ["CO"],
        }
    )


def test_sdk_creates_an_employment_campaign_tree_and_reads_daily_insights(account, sandbox):
    campaign = _campaign(account, "[adflux:sdk] Auxiliar de bodega")
    targeting = {
        "geo_locations": {
            "custom_locations": [
                {"latitude": 3.4516, "longitude": -76.532, "radius": 25, "distance_unit": "kilometer"}
            ]
        },
        "age_min": 18,
        "age_max": 65,
    }
    ad_set = account.create_ad_set(
        params={
            AdSet.Field.name: "[adflux:sdk:seg-1] Operativos",
            AdSet.Field.campaign_id: campaign["id"],
            AdSet.Field.daily_budget: 40_000,
            AdSet.Field.billing_event: AdSet.BillingEvent.impressions,
            AdSet.Field.optimization_goal: AdSet.OptimizationGoal.link_clicks,
            AdSet.Field.bid_strategy: AdSet.BidStrategy.lowest_cost_without_cap,
            AdSet.Field.targeting: targeting,
            AdSet.Field.status: AdSet.Status.paused,
        }
    )
    creative = account.create_ad_creative(
        params={
            "name": "[adflux:sdk:creative]",
            "object_story_spec": {
                "page_id": "1122",
                "link_data": {
                    "link": "https://empleos.example.co/9",
                    "message": "Auxiliar de bodega, turnos rotativos en Cali",
                    "name": "Auxiliar de bodega",
                    "call_to_action": {"type": "APPLY_NOW"},
                },
            },
        }
    )
    ad = account.create_ad(
        params={
            "name": "[adflux:sdk:seg-1:ad]",
            "adset_id": ad_set["id"],
            "creative": {"creative_id": creative["id"]},
            "status": "PAUSED",
        }
    )
    assert all(obj["id"].isdigit() for obj in (campaign, ad_set, creative, ad))

    # Some create_* calls hand back a generic object; address each by its class and id.
    ad, ad_set, campaign = Ad(ad["id"]), AdSet(ad_set["id"]), Campaign(campaign["id"])
    for obj in (ad, ad_set, campaign):
        obj.api_update(params={"status": "ACTIVE"})
    assert ad.api_get(fields=["effective_status"])["effective_status"] == "PENDING_REVIEW"
    sandbox.advance_days(5)
    assert ad.api_get(fields=["effective_status"])["effective_status"] == "ACTIVE"

    rows = campaign.get_insights(
        fields=["adset_id", "impressions", "reach", "inline_link_clicks", "spend", "actions"],
        params={
            "level": "adset",
            "time_increment": 1,
            "time_range": {"since": "2025-03-03", "until": "2025-03-07"},
        },
    )
    rows = list(rows)
    assert [row["date_start"] for row in rows] == [f"2025-03-0{day}" for day in range(3, 8)]
    assert all(int(row["impressions"]) >= int(row["inline_link_clicks"]) for row in rows)

    run = account.get_insights(
        is_async=True,
        fields=["impressions", "spend"],
        params={"level": "campaign", "time_range": {"since": "2025-03-03", "until": "2025-03-07"}},
    )
    assert isinstance(run, AdReportRun)
    run.api_get()
    assert run[AdReportRun.Field.async_status] == "Job Completed"
    assert int(next(iter(run.get_result()))["impressions"]) == sum(int(row["impressions"]) for row in rows)


def test_sdk_pages_through_campaigns(account):
    for index in range(5):
        _campaign(account, f"c{index}")

    names = [row["name"] for row in account.get_campaigns(fields=["name"], params={"limit": 2})]

    assert names == [f"c{index}" for index in range(5)]


def test_sdk_surfaces_employment_targeting_rejections(account):
    campaign = _campaign(account, "c")

    with pytest.raises(FacebookRequestError) as caught:
        account.create_ad_set(
            params={
                "name": "s",
                "campaign_id": campaign["id"],
                "daily_budget": 40_000,
                "billing_event": "IMPRESSIONS",
                "optimization_goal": "LINK_CLICKS",
                "status": "PAUSED",
                "targeting": {"geo_locations": {"countries": ["CO"]}, "genders": [2], "age_min": 25},
            }
        )

    assert caught.value.api_error_code() == 100
    assert "Employment special ad category" in caught.value.api_error_message()
