"""The sandbox refuses what the real platforms refuse (issue 17): unknown fields, unknown GAQL fields,
sunset API versions, duplicate TikTok request ids, partial Snapchat PUTs, X campaign flights."""

from __future__ import annotations

from adflux.platforms.x import OAuth1Auth
from adflux.sandbox.x import SANDBOX_CREDENTIALS
from sandbox_oauth import ISSUED, Issued

GOOGLE_HEADERS = Issued("google", {"developer-token": "d", "Authorization": "Bearer {token}"})
TIKTOK = Issued("tiktok", {"Access-Token": "{token}"})
SNAPCHAT = Issued("snapchat", {"Authorization": "Bearer {token}"})
CID = "1234567890"
SNAP_ACCOUNT = "8f4b2e65-4f3d-4a8e-9a55-3f9b2c1d0e7a"
BUDGET = {"campaignBudgetOperation": {"create": {"resourceName": f"customers/{CID}/campaignBudgets/-1"}}}


def _budget(**extra: object) -> dict:
    create = {"resourceName": f"customers/{CID}/campaignBudgets/-1", "name": "b", "amountMicros": "1000000"}
    return {"mutateOperations": [{"campaignBudgetOperation": {"create": {**create, **extra}}}]}


def test_google_refuses_unknown_json_names_with_a_bad_request(http):
    url = f"/v26/customers/{CID}/googleAds:mutate"
    ok = http.post(url, headers=GOOGLE_HEADERS, json=_budget())
    bad = http.post(url, headers=GOOGLE_HEADERS, json=_budget(bogusField=1))

    assert ok.status_code == 200, ok.text
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and 'Unknown name "bogusField"' in error["message"]
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    old = {"campaignOperation": {"create": {"name": "c", "startDate": "2025-03-03"}}}
    refused = http.post(url, headers=GOOGLE_HEADERS, json={"mutateOperations": [old]})
    assert refused.status_code == 400 and '"startDate"' in refused.json()["error"]["message"]


def test_google_refuses_unknown_gaql_fields_sunset_versions_and_a_missing_developer_token(http):
    search = f"/customers/{CID}/googleAds:searchStream"
    good = http.post(
        f"/v26{search}", headers=GOOGLE_HEADERS, json={"query": "SELECT campaign.id FROM campaign"}
    )
    unknown = http.post(
        f"/v26{search}", headers=GOOGLE_HEADERS, json={"query": "SELECT metrics.not_a_metric FROM campaign"}
    )
    sunset = http.post(
        f"/v14{search}", headers=GOOGLE_HEADERS, json={"query": "SELECT campaign.id FROM campaign"}
    )
    no_token = http.post(
        f"/v26{search}",
        headers={"Authorization": f"Bearer {ISSUED['google']}"},
        json={"query": "SELECT campaign.id FROM campaign"},
    )

    assert good.status_code == 200
    assert unknown.status_code == 400
    failure = unknown.json()["error"]["details"][0]["errors"][0]
    assert failure["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
    assert "metrics.not_a_metric" in failure["message"]
    assert sunset.status_code == 404
    assert no_token.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"
    }


def _tiktok(http, endpoint: str, body: dict) -> dict:
    return http.post(
        f"/open_api/v1.3/{endpoint}", headers=TIKTOK, json={"advertiser_id": "77", **body}
    ).json()


def test_tiktok_refuses_unknown_fields_and_deduplicates_request_ids(http):
    campaign = {"campaign_name": "c", "objective_type": "TRAFFIC", "budget_mode": "BUDGET_MODE_INFINITE"}
    first = _tiktok(http, "campaign/create/", {**campaign, "request_id": "42"})
    again = _tiktok(http, "campaign/create/", {**campaign, "campaign_name": "c2", "request_id": "42"})
    unknown = _tiktok(http, "campaign/create/", {**campaign, "campaign_name": "c3", "colour": "red"})
    report = _tiktok(
        http,
        "report/task/create/",
        {
            "report_type": "BASIC",
            "data_level": "AUCTION_ADGROUP",
            "dimensions": ["adgroup_id"],
            "metrics": ["spend"],
            "start_date": "2025-03-01",
            "end_date": "2025-03-02",
            "filters": [],
        },
    )
    listed = http.get("/open_api/v1.3/campaign/get/", params={"advertiser_id": "77"}, headers=TIKTOK).json()

    assert first["code"] == 0
    assert again["code"] == 40050 and "request_id" in again["message"]
    assert unknown == {**unknown, "code": 40002, "message": "colour: Unknown field."}
    assert report["code"] == 40002 and report["message"] == "filters: Unknown field."
    assert [row["campaign_name"] for row in listed["data"]["list"]] == ["c"]


def test_snapchat_puts_must_carry_the_whole_entity_and_objects_read_by_id(http):
    headers = SNAPCHAT
    item = {"name": "c", "status": "PAUSED", "start_time": "2025-03-03T00:00:00.000-05:00"}
    created = http.post(
        f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns", headers=headers, json={"campaigns": [item]}
    ).json()["campaigns"][0]["campaign"]
    one = http.get(f"/v1/campaigns/{created['id']}", headers=headers).json()["campaigns"][0]["campaign"]
    partial = http.put(
        f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns",
        headers=headers,
        json={"campaigns": [{"id": created["id"], "status": "ACTIVE"}]},
    )
    whole = http.put(
        f"/v1/adaccounts/{SNAP_ACCOUNT}/campaigns",
        headers=headers,
        json={"campaigns": [{**one, "status": "ACTIVE"}]},
    )

    assert one["name"] == "c" and one["ad_account_id"] == SNAP_ACCOUNT
    assert partial.status_code == 400 and "whole entity" in partial.json()["debug_message"]
    assert whole.status_code == 200, whole.text
    assert whole.json()["campaigns"][0]["campaign"]["status"] == "ACTIVE"


def test_x_campaigns_have_no_flight_and_audience_users_are_one_person_each(http):
    auth = OAuth1Auth(
        *(
            SANDBOX_CREDENTIALS[k]
            for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        )
    )
    account = "18ce54d4x5t"
    funding = http.get(f"/12/accounts/{account}/funding_instruments", auth=auth).json()["data"][0]["id"]
    params = {"name": "c", "funding_instrument_id": funding, "daily_budget_amount_local_micro": "1000000"}
    refused = http.post(
        f"/12/accounts/{account}/campaigns",
        auth=auth,
        params={**params, "start_time": "2025-03-03T00:00:00Z"},
    )
    created = http.post(f"/12/accounts/{account}/campaigns", auth=auth, params=params)
    audience = http.post(f"/12/accounts/{account}/custom_audiences", auth=auth, params={"name": "a"}).json()
    lumped = http.post(
        f"/12/accounts/{account}/custom_audiences/{audience['data']['id']}/users",
        auth=auth,
        json=[{"operation_type": "Update", "params": {"users": [{"email": ["a" * 64] * 2_500}]}}],
    )

    assert refused.status_code == 400 and refused.json()["errors"][0]["parameter"] == "start_time"
    assert created.status_code == 200
    assert lumped.status_code == 400 and lumped.json()["errors"][0]["parameter"] == "email"


def test_meta_refuses_unknown_fields_and_parameters(http):
    base = {"access_token": ISSUED["meta"]}
    good = http.get("/v26.0/act_1/campaigns", params={**base, "fields": "id,name,objective"})
    unknown = http.get("/v26.0/act_1/campaigns", params={**base, "fields": "id,not_a_field"})
    campaign = {
        "name": "c",
        "objective": "OUTCOME_TRAFFIC",
        "special_ad_categories": "[]",
        "status": "PAUSED",
    }
    bogus = http.post("/v26.0/act_1/campaigns", data={**base, **campaign, "bogus_param": "1"})

    assert good.status_code == 200
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == (
        "(#100) Tried accessing nonexisting field (not_a_field) on node type (Campaign)"
    )
    assert bogus.status_code == 400 and "bogus_param" in bogus.json()["error"]["message"]
