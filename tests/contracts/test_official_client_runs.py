"""Issue 17 item 3, continued: the official clients (base URL changed, nothing else) against the strict
sandbox — facebook-business batch requests and async insights, twitter-ads at the /11/ it pins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest
import twitter_ads.http
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.campaign import Campaign
from facebook_business.api import FacebookAdsApi, FacebookResponse, FacebookSession
from facebook_business.exceptions import FacebookRequestError
from twitter_ads.campaign import Campaign as XCampaign
from twitter_ads.campaign import LineItem
from twitter_ads.client import Client
from twitter_ads.creative import PromotedTweet
from twitter_ads.enum import ENTITY_STATUS, GRANULARITY, METRIC_GROUP, OBJECTIVE, PLACEMENT, PRODUCT
from twitter_ads.error import BadRequest, NotAuthorized, NotFound

from adflux.platforms.x import OAuth1Auth
from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from adflux.sandbox.x import SANDBOX_CREDENTIALS
from sandbox_oauth import ISSUED, obtain

X_ACCOUNT = "18ce54d4x5t"
META_CAMPAIGN = {
    "objective": Campaign.Objective.outcome_traffic,
    "status": Campaign.Status.paused,
    "special_ad_categories": [Campaign.SpecialAdCategories.employment],
    "special_ad_category_country": ["CO"],
}


@pytest.fixture(scope="module")
def sandbox_module() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread(start_date=date(2025, 3, 3))
    obtain(server.base_url)
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_module: SandboxServer) -> SandboxServer:
    sandbox_module.state.reset()
    sandbox_module.state.report_polls = 1
    return sandbox_module


@pytest.fixture
def meta_api(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> FacebookAdsApi:
    monkeypatch.setattr(FacebookSession, "GRAPH", sandbox.base_url)  # the base URL, nothing else
    return FacebookAdsApi(FacebookSession(access_token=ISSUED["meta"]), api_version="v26.0")


@pytest.fixture
def x_client(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr(twitter_ads.http.Request, "_DEFAULT_DOMAIN", sandbox.base_url)  # the base URL only
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    return Client(*(SANDBOX_CREDENTIALS[key] for key in keys))


def test_facebook_business_batch_creates_reads_and_reports_each_items_own_outcome(
    meta_api: FacebookAdsApi,
) -> None:
    account = AdAccount("act_1234567", api=meta_api)
    created: list[dict[str, Any]] = []
    failed: list[FacebookResponse] = []
    batch = meta_api.new_batch()
    for index in range(3):
        account.create_campaign(
            params={**META_CAMPAIGN, "name": f"lote-{index}"},
            batch=batch,
            success=lambda r: created.append(r.json()),
        )
    account.create_campaign(  # refused by the platform's rules: an employment ad without its country
        params={**META_CAMPAIGN, "name": "sin-pais", "special_ad_category_country": []},
        batch=batch,
        failure=failed.append,
    )
    assert batch.execute() is None  # nothing to retry: each item got an answer

    read: list[dict[str, Any]] = []
    batch = meta_api.new_batch()
    for item in created:
        Campaign(item["id"], api=meta_api).api_get(
            fields=["name", "status"], batch=batch, success=lambda r: read.append(r.json())
        )
    Campaign("999999999", api=meta_api).api_get(fields=["name"], batch=batch, failure=failed.append)
    batch.execute()

    assert [row["name"] for row in read] == ["lote-0", "lote-1", "lote-2"]
    assert {row["status"] for row in read} == {"PAUSED"}
    assert [response.status() for response in failed] == [400, 400]
    assert [response.error().api_error_code() for response in failed] == [100, 100]


def test_graph_batch_limits_and_per_item_tokens(sandbox: SandboxServer, meta_api: FacebookAdsApi) -> None:
    too_many = [{"method": "GET", "relative_url": "act_1/campaigns"}] * 51
    with pytest.raises(FacebookRequestError) as answer:
        meta_api.call("POST", (), params={"batch": json.dumps(too_many)})
    item = {"method": "GET", "relative_url": "act_1/campaigns?access_token=EAAnot-issued"}
    mixed = meta_api.call("POST", (), params={"batch": json.dumps([item, {**item, "relative_url": "act_1"}])})

    assert (
        answer.value.http_status() == 400 and "Maximum batch size is 50" in answer.value.api_error_message()
    )
    codes = [entry["code"] for entry in mixed.json()]
    assert codes == [400, 200]  # the item's own (bad) token is refused; the other uses the batch's
    assert json.loads(mixed.json()[0]["body"])["error"]["code"] == 190


def test_facebook_business_async_insights_report_run_polls_until_complete(
    sandbox: SandboxServer, meta_api: FacebookAdsApi
) -> None:
    sandbox.state.report_polls = 3
    account = AdAccount("act_1234567", api=meta_api)
    account.create_campaign(params={**META_CAMPAIGN, "name": "informe"})

    run = account.get_insights(
        is_async=True,
        fields=["campaign_name", "impressions", "spend"],
        params={"level": "campaign", "time_range": {"since": "2025-03-01", "until": "2025-03-02"}},
    )
    statuses = []
    while not statuses or statuses[-1] != "Job Completed":
        statuses.append(run.api_get()[AdReportRun.Field.async_status])
        assert len(statuses) <= 5
    rows = list(run.get_result())

    assert isinstance(run, AdReportRun) and statuses == ["Job Running", "Job Running", "Job Completed"]
    assert rows == []  # nothing was delivered before the campaign existed


def test_twitter_ads_client_at_its_pinned_version_11_creates_reads_lists_pauses_and_reports(
    sandbox: SandboxServer, x_client: Client
) -> None:
    assert twitter_ads.API_VERSION == "11"  # X still serves /11/ beside /12/
    account = x_client.accounts(X_ACCOUNT)
    funding = next(iter(account.funding_instruments()))
    campaign = XCampaign(account)
    campaign.funding_instrument_id, campaign.name = funding.id, "[adflux:x] Cajero"
    campaign.entity_status, campaign.daily_budget_amount_local_micro = ENTITY_STATUS.PAUSED, 50_000_000_000
    campaign.save()
    item = LineItem(account)
    item.campaign_id, item.name, item.product_type = campaign.id, "Bogotá", PRODUCT.PROMOTED_TWEETS
    item.placements, item.objective = [PLACEMENT.ALL_ON_TWITTER], OBJECTIVE.WEBSITE_CLICKS
    item.bid_strategy, item.entity_status = "AUTO", ENTITY_STATUS.PAUSED
    item.start_time = datetime(2025, 3, 3, 5)
    item.save()
    # A promoted-only post on the line item (twitter-ads 11 has no Tweet class: its own Request).
    post = {"text": "Cajero en Bogotá", "nullcast": "true", "name": "[adflux:x] post", "as_user_id": "15"}
    tweet = twitter_ads.http.Request(x_client, "post", f"/11/accounts/{X_ACCOUNT}/tweet", params=post)
    tweet_id = tweet.perform().body["data"]["id_str"]
    promoted = list(PromotedTweet.attach(account, line_item_id=item.id, tweet_ids=[tweet_id]))

    loaded = XCampaign.load(account, campaign.id)
    listed = [row.name for row in account.campaigns()]
    was = loaded.entity_status
    loaded.entity_status = ENTITY_STATUS.ACTIVE
    loaded.save()  # the client sends back every property it read, X's own read-only ones included
    reloaded = XCampaign.load(account, campaign.id)
    item.entity_status = ENTITY_STATUS.ACTIVE
    item.save()
    sandbox.advance_days(3)  # three days of delivery for the promoted post
    window = {"start_time": datetime(2025, 3, 3), "end_time": datetime(2025, 3, 6)}
    groups = [METRIC_GROUP.ENGAGEMENT, METRIC_GROUP.BILLING]
    sync = LineItem.all_stats(account, [item.id], groups, granularity=GRANULARITY.DAY, **window)
    job = LineItem.queue_async_stats_job(account, [item.id], groups, granularity=GRANULARITY.DAY, **window)
    done = next(iter(LineItem.async_stats_job_result(account, job_ids=[job.id])))
    data = LineItem.async_stats_job_data(account, url=done.url)

    assert (loaded.name, was, listed) == (
        "[adflux:x] Cajero",
        "PAUSED",
        ["[adflux:x] Cajero"],
    )
    assert reloaded.entity_status == "ACTIVE"
    assert [(row.line_item_id, row.tweet_id) for row in promoted] == [(item.id, tweet_id)]
    impressions = sync[0]["id_data"][0]["metrics"]["impressions"]
    assert sync[0]["id"] == item.id and len(impressions) == 3
    assert sum(impressions) > 0  # the promoted post was delivered: the stats are not all zeros
    assert done.status == "SUCCESS" and data["data"] == sync and data["time_series_length"] == 3


def test_twitter_ads_client_sees_xs_errors(sandbox: SandboxServer, x_client: Client) -> None:
    account = x_client.accounts(X_ACCOUNT)
    with pytest.raises(NotFound):
        XCampaign.load(account, "zzzz9")
    campaign = XCampaign(account)
    campaign.name = "sin fondos"
    with pytest.raises(BadRequest) as missing:
        campaign.save()
    stranger = Client("sandbox-consumer-key", "sandbox-consumer-secret", "unknown-token", "unknown-secret")
    with pytest.raises(NotAuthorized) as refused:
        stranger.accounts(X_ACCOUNT)

    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
    signed = OAuth1Auth(*(SANDBOX_CREDENTIALS[key] for key in keys))
    sunset = httpx.get(f"{sandbox.base_url}/10/accounts/{X_ACCOUNT}", auth=signed)

    assert sunset.status_code == 404 and sunset.json()["errors"][0]["code"] == "NOT_FOUND"
    assert missing.value.details[0]["code"] == "INVALID_PARAMETER"
    assert refused.value.details == [{"code": 89, "message": "Invalid or expired token."}]
