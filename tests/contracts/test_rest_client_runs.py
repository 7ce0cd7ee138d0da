"""Issue 17 item 3: Google Ads and Snapchat through their documented REST shapes against the sandbox.

Google: requests built as the ``google-ads`` library's own messages and sent as their JSON; every
answer is parsed back into the library's response messages with unknown fields refused, so the
sandbox answers only what the real API's definitions allow. Snapchat: the Marketing API's documented
requests (checked by the wire contract), create → read by id → page → whole-entity PUT → stats.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from google.ads.googleads.v26.errors.types.errors import GoogleAdsFailure
from google.ads.googleads.v26.resources.types.campaign import Campaign
from google.ads.googleads.v26.resources.types.campaign_budget import CampaignBudget
from google.ads.googleads.v26.services.types import google_ads_service as service
from google.ads.googleads.v26.services.types.campaign_budget_service import CampaignBudgetOperation
from google.ads.googleads.v26.services.types.campaign_service import CampaignOperation
from google.protobuf import field_mask_pb2, json_format

from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from contracts.official import Recorded, judge
from sandbox_oauth import ISSUED, google_token, obtain

CID = "1234567890"
SNAP_ACCOUNT = "8f4b2e65-4f3d-4a8e-9a55-3f9b2c1d0e7a"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread(start_date=date(2025, 3, 3))
    obtain(server.base_url)
    yield server
    server.stop()


@pytest.fixture
def google(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    sandbox.state.reset()
    with httpx.Client(base_url=sandbox.base_url, timeout=10) as http:
        token = google_token(http)  # from the OAuth token endpoint, as google-ads' credentials would
        http.headers.update({"Authorization": f"Bearer {token}", "developer-token": "dev-token"})
        yield http


def _json(message: Any) -> dict[str, Any]:
    """A google-ads message as its REST JSON (lowerCamelCase), the path's customer id left out."""
    body = json_format.MessageToDict(type(message).pb(message))
    body.pop("customerId", None)
    return body


def _strict(text: str, message_class: Any) -> Any:
    """Parse an answer into the library's message, refusing any field it does not define."""
    return json_format.Parse(text, message_class.pb(message_class()), ignore_unknown_fields=False)


def _tree(name: str) -> service.MutateGoogleAdsRequest:
    budget = f"customers/{CID}/campaignBudgets/-1"
    campaign = Campaign(
        resource_name=f"customers/{CID}/campaigns/-2",
        name=name,
        status="PAUSED",
        advertising_channel_type="SEARCH",
        campaign_budget=budget,
        manual_cpc={},
        contains_eu_political_advertising="DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
    )
    return service.MutateGoogleAdsRequest(
        customer_id=CID,
        mutate_operations=[
            service.MutateOperation(
                campaign_budget_operation=CampaignBudgetOperation(
                    create=CampaignBudget(resource_name=budget, amount_micros=50_000_000_000)
                )
            ),
            service.MutateOperation(campaign_operation=CampaignOperation(create=campaign)),
        ],
    )


def _search(http: httpx.Client, query: str) -> list[Any]:
    request = service.SearchGoogleAdsStreamRequest(customer_id=CID, query=query)
    answer = http.post(f"/v26/customers/{CID}/googleAds:searchStream", json=_json(request))
    answer.raise_for_status()
    return [
        _strict(httpx.Response(200, json=chunk).text, service.SearchGoogleAdsStreamResponse)
        for chunk in answer.json()
    ]


def test_google_ads_rest_mutate_search_pause_and_failure_in_the_librarys_own_shapes(google) -> None:
    created = google.post(f"/v26/customers/{CID}/googleAds:mutate", json=_json(_tree("Cajero · Bogotá")))
    result = _strict(created.text, service.MutateGoogleAdsResponse)
    campaign = result.mutate_operation_responses[1].campaign_result.resource_name

    pause = CampaignOperation(
        update=Campaign(resource_name=campaign, status="ENABLED"),
        update_mask=field_mask_pb2.FieldMask(paths=["status"]),
    )
    enabled = google.post(
        f"/v26/customers/{CID}/googleAds:mutate",
        json=_json(
            service.MutateGoogleAdsRequest(
                mutate_operations=[service.MutateOperation(campaign_operation=pause)]
            )
        ),
    )
    rows = [
        row
        for chunk in _search(google, "SELECT campaign.id, campaign.name, campaign.status FROM campaign")
        for row in chunk.results
    ]
    duplicate = google.post(f"/v26/customers/{CID}/googleAds:mutate", json=_json(_tree("Cajero · Bogotá")))
    failure = {key: value for key, value in duplicate.json()["error"]["details"][0].items() if key != "@type"}
    parsed_failure = json_format.ParseDict(failure, GoogleAdsFailure.pb(GoogleAdsFailure()))

    assert created.status_code == 200 and campaign.startswith(f"customers/{CID}/campaigns/")
    assert enabled.status_code == 200
    assert [(row.campaign.resource_name, row.campaign.name) for row in rows] == [
        (campaign, "Cajero · Bogotá")
    ]
    assert rows[0].campaign.status == 2  # ENABLED in CampaignStatusEnum
    assert duplicate.status_code == 400
    assert parsed_failure.errors[0].error_code.campaign_error == 12  # DUPLICATE_CAMPAIGN_NAME


def test_google_ads_rest_refuses_what_the_library_would_not_build(google) -> None:
    body = _json(_tree("Extra"))
    body["mutateOperations"][1]["campaignOperation"]["create"]["startDate"] = "2025-03-03"  # gone since v23
    refused = google.post(f"/v26/customers/{CID}/googleAds:mutate", json=body)

    assert refused.status_code == 400 and refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "startDate" in refused.json()["error"]["message"]


def _snap(http: httpx.Client, method: str, path: str, sent: list[Recorded], **kwargs: Any) -> dict[str, Any]:
    answer = http.request(method, path, **kwargs)
    sent.append(Recorded(method, str(answer.request.url), "application/json", answer.request.read()))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["request_status"] == "SUCCESS"
    return body


def test_snapchat_rest_create_read_page_put_whole_entity_and_stats(sandbox: SandboxServer) -> None:
    sandbox.state.reset()
    sent: list[Recorded] = []
    headers = {"Authorization": f"Bearer {ISSUED['snapchat']}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as http:
        campaigns = [
            {
                "name": f"Cajero {n}",
                "ad_account_id": SNAP_ACCOUNT,
                "status": "PAUSED",
                "start_time": "2025-03-03T00:00:00.000-05:00",
            }
            for n in range(3)
        ]
        made = _snap(
            http, "POST", f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns", sent, json={"campaigns": campaigns}
        )
        first_id = made["campaigns"][0]["campaign"]["id"]
        one = _snap(http, "GET", f"/v1/campaigns/{first_id}", sent)["campaigns"][0]["campaign"]
        page = _snap(http, "GET", f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns", sent, params={"limit": 2})
        rest = _snap(http, "GET", page["paging"]["next_link"], sent)
        whole = {key: one[key] for key in ("id", "name", "ad_account_id", "start_time")} | {
            "status": "ACTIVE"
        }
        _snap(http, "PUT", f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns", sent, json={"campaigns": [whole]})
        after = _snap(http, "GET", f"/v1/campaigns/{first_id}", sent)["campaigns"][0]["campaign"]
        window = {"start_time": "2025-03-03T00:00:00.000-05:00", "end_time": "2025-03-05T00:00:00.000-05:00"}
        daily = _snap(
            http, "GET", f"/v1/campaigns/{first_id}/stats", sent, params={"granularity": "DAY", **window}
        )
        total = _snap(http, "GET", f"/v1/campaigns/{first_id}/stats", sent, params={"granularity": "TOTAL"})

    verdict = judge(sent)
    assert verdict.checked >= 2 and not verdict.refused
    assert one["name"] == "Cajero 0" and after["status"] == "ACTIVE"
    assert len(page["campaigns"]) == 2 and len(rest["campaigns"]) == 1
    series = daily["timeseries_stats"][0]["timeseries_stat"]
    assert series["type"] == "CAMPAIGN" and len(series["timeseries"]) == 2
    stat = total["total_stats"][0]["total_stat"]
    assert stat["granularity"] == "TOTAL" and set(stat["stats"]) == {"impressions", "swipes", "spend"}
