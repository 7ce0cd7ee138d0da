"""Each emulated API: id formats, employment-ad rules, atomic mutates and pagination."""

from __future__ import annotations

import json
import re

import httpx

from sandbox_oauth import Issued

META = Issued("meta", {"access_token": "{token}"})
GOOGLE_HEADERS = Issued("google", {"developer-token": "d", "Authorization": "Bearer {token}"})
TIKTOK = Issued("tiktok", {"Access-Token": "{token}"})
SNAPCHAT = Issued("snapchat", {"Authorization": "Bearer {token}"})
CID = "1234567890"


def _meta_campaign(http: httpx.Client, **overrides: str) -> httpx.Response:
    data = {
        "name": "Vacante",
        "objective": "OUTCOME_TRAFFIC",
        "status": "PAUSED",
        "special_ad_categories": '["EMPLOYMENT"]',
        "special_ad_category_country": '["CO"]',
        **overrides,
    }
    return http.post("/v26.0/act_42/campaigns", data=data, params=META)


def _meta_adset(http: httpx.Client, campaign_id: str, targeting: dict) -> httpx.Response:
    return http.post(
        "/v26.0/act_42/adsets",
        params=META,
        data={
            "name": "s",
            "campaign_id": campaign_id,
            "daily_budget": "20000",
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "LINK_CLICKS",
            "targeting": json.dumps(targeting),
            "status": "PAUSED",
        },
    )


def test_meta_ids_are_numeric_strings_and_employment_needs_a_country(http):
    created = _meta_campaign(http)
    assert re.fullmatch(r"\d{15,}", created.json()["id"])

    missing = _meta_campaign(http, special_ad_category_country="[]")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 100
    assert "special_ad_category_country" in missing.json()["error"]["error_user_msg"]


def test_meta_rejects_employment_ad_sets_with_gender_age_zip_or_exclusions(http):
    campaign_id = _meta_campaign(http).json()["id"]
    geo = {"countries": ["CO"]}

    for targeting in (
        {"geo_locations": geo, "genders": [1]},
        {"geo_locations": geo, "age_min": 25},
        {"geo_locations": {"countries": ["CO"], "zips": [{"key": "CO:050021"}]}},
        {"geo_locations": geo, "excluded_geo_locations": {"countries": ["VE"]}},
        {
            "geo_locations": {
                "custom_locations": [
                    {"latitude": 4.7, "longitude": -74.1, "radius": 5, "distance_unit": "kilometer"}
                ]
            }
        },
    ):
        response = _meta_adset(http, campaign_id, targeting)
        error = response.json()["error"]
        assert response.status_code == 400 and error["code"] == 100, targeting
        assert "Employment special ad category" in error["message"]

    ok = _meta_adset(http, campaign_id, {"geo_locations": geo, "age_min": 18, "age_max": 65})
    assert ok.status_code == 200


def test_meta_pages_with_cursors_and_next(http):
    for _ in range(5):
        _meta_campaign(http)

    first = http.get("/v26.0/act_42/campaigns", params={**META, "limit": 2, "fields": "id,name"}).json()
    assert len(first["data"]) == 2 and "next" in first["paging"] and first["paging"]["cursors"]["after"]
    names, url = [], first["paging"]["next"]
    while url:
        page = http.get(url).json()
        names += page["data"]
        url = page["paging"].get("next")
    assert len(names) == 3


def _mutate(http: httpx.Client, operations: list[dict], **flags: bool) -> httpx.Response:
    return http.post(
        f"/v26/customers/{CID}/googleAds:mutate",
        headers=GOOGLE_HEADERS,
        json={"mutateOperations": operations, **flags},
    )


def _google_tree(name: str, criterion: dict | None = None) -> list[dict]:
    budget, campaign, group = (
        f"customers/{CID}/campaignBudgets/-1",
        f"customers/{CID}/campaigns/-2",
        f"customers/{CID}/adGroups/-3",
    )
    operations = [
        {"campaignBudgetOperation": {"create": {"resourceName": budget, "amountMicros": "50000000000"}}},
        {
            "campaignOperation": {
                "create": {
                    "resourceName": campaign,
                    "name": name,
                    "status": "PAUSED",
                    "advertisingChannelType": "SEARCH",
                    "campaignBudget": budget,
                    "manualCpc": {},
                    "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
                }
            }
        },
        {"adGroupOperation": {"create": {"resourceName": group, "campaign": campaign, "name": "g"}}},
    ]
    if criterion:
        operations.append({"adGroupCriterionOperation": {"create": {"adGroup": group, **criterion}}})
    return operations


def test_google_resolves_temporary_ids_within_one_request(http):
    response = _mutate(http, _google_tree("A", {"keyword": {"text": "contador", "matchType": "BROAD"}}))

    results = response.json()["mutateOperationResponses"]
    campaign = results[1]["campaignResult"]["resourceName"]
    group_id = results[2]["adGroupResult"]["resourceName"].rsplit("/", 1)[1]
    assert re.fullmatch(rf"customers/{CID}/campaigns/\d+", campaign)
    assert results[3]["adGroupCriterionResult"]["resourceName"].startswith(
        f"customers/{CID}/adGroupCriteria/{group_id}~"
    )


def test_google_rejects_age_criteria_for_job_ads_and_commits_nothing(http, sandbox):
    response = _mutate(http, _google_tree("B", {"ageRange": {"type": "AGE_RANGE_25_34"}}))

    error = response.json()["error"]
    assert response.status_code == 400 and error["status"] == "INVALID_ARGUMENT"
    failure = error["details"][0]
    assert failure["@type"].endswith("errors.GoogleAdsFailure")
    assert failure["errors"][0]["errorCode"] == {"criterionError": "CANNOT_TARGET_CRITERION"}
    assert failure["errors"][0]["location"]["fieldPathElements"][0] == {
        "fieldName": "mutate_operations",
        "index": 3,
    }
    assert sandbox.object_counts("google") == {}


def test_google_partial_failure_keeps_the_valid_operations(http, sandbox):
    response = _mutate(http, _google_tree("C", {"gender": {"type": "FEMALE"}}), partialFailure=True)

    body = response.json()
    assert response.status_code == 200 and body["partialFailureError"]["code"] == 3
    assert body["mutateOperationResponses"][3] == {}
    assert sandbox.object_counts("google") == {"campaign_budget": 1, "campaign": 1, "ad_group": 1}


def test_google_validate_only_and_duplicate_names(http, sandbox):
    assert _mutate(http, _google_tree("D"), validateOnly=True).json() == {}
    assert sandbox.object_counts("google") == {}

    _mutate(http, _google_tree("D"))
    again = _mutate(http, _google_tree("D")).json()["error"]["details"][0]["errors"][0]
    assert again["errorCode"] == {"campaignError": "DUPLICATE_CAMPAIGN_NAME"}


def test_google_gaql_filters_by_name(http):
    _mutate(http, _google_tree("Vacante 'uno'"))
    _mutate(http, _google_tree("Otra"))

    rows = http.post(
        f"/v26/customers/{CID}/googleAds:searchStream",
        headers=GOOGLE_HEADERS,
        json={
            "query": "SELECT campaign.id, campaign.name FROM campaign "
            "WHERE campaign.name = 'Vacante \\'uno\\''"
        },
    ).json()[0]["results"]

    assert [row["campaign"]["name"] for row in rows] == ["Vacante 'uno'"]


def _tiktok(http: httpx.Client, endpoint: str, body: dict) -> dict:
    return http.post(
        f"/open_api/v1.3/{endpoint}", headers=TIKTOK, json={"advertiser_id": "77", **body}
    ).json()


def test_tiktok_ids_have_19_digits_and_special_industries_forbid_gender(http):
    campaign = _tiktok(
        http,
        "campaign/create/",
        {
            "campaign_name": "c",
            "objective_type": "TRAFFIC",
            "budget_mode": "BUDGET_MODE_TOTAL",
            "budget": 100000,
            "special_industries": ["EMPLOYMENT"],
        },
    )
    campaign_id = campaign["data"]["campaign_id"]
    assert campaign["code"] == 0 and re.fullmatch(r"\d{19}", campaign_id)

    rejected = _tiktok(
        http,
        "adgroup/create/",
        {
            "campaign_id": campaign_id,
            "adgroup_name": "g",
            "placement_type": "PLACEMENT_TYPE_NORMAL",
            "location_ids": ["3686110"],
            "gender": "GENDER_FEMALE",
            "budget": 20000,
            "billing_event": "CPC",
            "optimization_goal": "CLICK",
            "pacing": "PACING_MODE_SMOOTH",
            "promotion_type": "WEBSITE",
        },
    )

    assert rejected["code"] == 40002 and "gender" in rejected["message"]


def test_tiktok_pages_with_page_info(http):
    for index in range(3):
        _tiktok(http, "campaign/create/", {"campaign_name": f"c{index}", "objective_type": "TRAFFIC"})

    page = http.get(
        "/open_api/v1.3/campaign/get/",
        headers=TIKTOK,
        params={"advertiser_id": "77", "page": 2, "page_size": 2},
    ).json()["data"]

    assert page["page_info"] == {"page": 2, "page_size": 2, "total_number": 3, "total_page": 2}
    assert [row["campaign_name"] for row in page["list"]] == ["c2"]


def test_snapchat_ids_are_uuids_and_pages_follow_next_link(http):
    account = "8f4b2e65-4f3d-4a8e-9a55-3f9b2c1d0e7a"
    headers = SNAPCHAT
    for index in range(3):
        created = http.post(
            f"/v1/adaccounts/{account}/campaigns",
            headers=headers,
            json={
                "campaigns": [
                    {"name": f"c{index}", "status": "PAUSED", "start_time": "2025-03-03T00:00:00.000Z"}
                ]
            },
        ).json()
    assert re.fullmatch(r"[0-9a-f-]{36}", created["campaigns"][0]["campaign"]["id"])

    page = http.get(f"/v1/adaccounts/{account}/campaigns", headers=headers, params={"limit": 2}).json()
    rest = http.get(page["paging"]["next_link"], headers=headers).json()

    assert len(page["campaigns"]) == 2 and [c["campaign"]["name"] for c in rest["campaigns"]] == ["c2"]
