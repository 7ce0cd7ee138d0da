"""Issue 17 item 3: the official client libraries, pointed at the sandbox by base URL only, work for the
calls people use. Calls exercised are counted per platform for bench/README.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import business_api_client
import pytest
from business_api_client.models import CampaignCreateBody, CampaignStatusUpdateBody
from business_api_client.tiktok_business.tiktok_exceptions import TiktokSDKError
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookAdsApi, FacebookSession
from facebook_business.exceptions import FacebookRequestError

from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from sandbox_oauth import ISSUED, obtain


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread(start_date=date(2025, 3, 3))
    obtain(server.base_url)  # the tokens the clients use come from the sandbox's token endpoints
    yield server
    server.stop()


@pytest.fixture
def meta_api(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> FacebookAdsApi:
    sandbox.state.reset()
    monkeypatch.setattr(FacebookSession, "GRAPH", sandbox.base_url)  # the base URL, nothing else
    return FacebookAdsApi(FacebookSession(access_token=ISSUED["meta"]), api_version="v26.0")


def test_facebook_business_create_read_list_pause_insights_and_errors(meta_api: FacebookAdsApi) -> None:
    account = AdAccount("act_1234567", api=meta_api)
    params = {
        "objective": Campaign.Objective.outcome_traffic,
        "status": Campaign.Status.paused,
        "special_ad_categories": [Campaign.SpecialAdCategories.employment],
        "special_ad_category_country": ["CO"],
    }
    created = [account.create_campaign(params={**params, "name": f"c{index}"}) for index in range(3)]

    read = Campaign(created[0]["id"], api=meta_api).api_get(
        fields=[Campaign.Field.name, Campaign.Field.status, Campaign.Field.objective]
    )
    listed = [row["name"] for row in account.get_campaigns(fields=["name"], params={"limit": 2})]
    Campaign(created[1]["id"], api=meta_api).api_update(params={"status": Campaign.Status.active})
    status = Campaign(created[1]["id"], api=meta_api).api_get(fields=["status"])["status"]
    insights = list(Campaign(created[0]["id"], api=meta_api).get_insights(fields=["impressions", "spend"]))
    with pytest.raises(FacebookRequestError) as refused:
        # The SDK's own low-level call (its object methods already warn about unknown fields locally).
        meta_api.call("GET", ("act_1234567", "campaigns"), params={"fields": "name,not_a_field"})

    assert (read["name"], read["status"], read["objective"]) == ("c0", "PAUSED", "OUTCOME_TRAFFIC")
    assert listed == ["c0", "c1", "c2"]  # three rows over two pages, followed by the SDK's cursor
    assert status == "ACTIVE"
    assert insights == []  # nothing delivered yet: a paused campaign on the sandbox's first day
    assert refused.value.api_error_code() == 100
    assert "not_a_field" in refused.value.api_error_message()


def test_tiktok_sdk_create_list_pause_and_duplicate_request(sandbox: SandboxServer) -> None:
    sandbox.state.reset()
    config = business_api_client.Configuration()
    config.host = sandbox.base_url  # the base URL, nothing else
    api = business_api_client.CampaignCreationApi(business_api_client.ApiClient(config))

    def create(name: str, request_id: str) -> dict:
        body = CampaignCreateBody(
            advertiser_id="77",
            campaign_name=name,
            objective_type="TRAFFIC",
            budget_mode="BUDGET_MODE_INFINITE",
            operation_status="DISABLE",
            request_id=request_id,
        )
        return api.campaign_create(ISSUED["tiktok"], body=body)

    ids = [create(f"c{index}", str(index))["data"]["campaign_id"] for index in range(3)]
    first = api.campaign_get("77", ISSUED["tiktok"], page=1, page_size=2)["data"]
    second = api.campaign_get("77", ISSUED["tiktok"], page=2, page_size=2)["data"]
    api.campaign_status_update(
        ISSUED["tiktok"],
        body=CampaignStatusUpdateBody(advertiser_id="77", campaign_ids=[ids[0]], operation_status="ENABLE"),
    )
    statuses = {
        row["campaign_id"]: row["operation_status"]
        for row in api.campaign_get("77", ISSUED["tiktok"], page_size=10)["data"]["list"]
    }
    duplicate = _code_of(lambda: create("c9", "1"))

    assert [row["campaign_name"] for row in first["list"] + second["list"]] == ["c0", "c1", "c2"]
    assert first["page_info"]["total_page"] == 2
    assert statuses == {ids[0]: "ENABLE", ids[1]: "DISABLE", ids[2]: "DISABLE"}
    assert duplicate == 40050


def _code_of(call: Callable[[], object]) -> int:
    """The TikTok error code a call ends with (the SDK raises TiktokSDKError naming it)."""
    with pytest.raises(TiktokSDKError) as error:
        call()
    found = re.search(r"Error Code: (\d+)", str(error.value))
    return int(found.group(1)) if found else -1
