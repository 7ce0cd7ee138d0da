"""The contract checks refuse what the platforms refuse: the breaks issue 17 found, sent as they were."""

from __future__ import annotations

import json

from contracts.official import Recorded, check, judge


def _json(method: str, url: str, body: object) -> Recorded:
    return Recorded(method, url, "application/json", json.dumps(body).encode())


def _form(method: str, url: str, body: str) -> Recorded:
    return Recorded(method, url, "application/x-www-form-urlencoded", body.encode())


GOOGLE = "http://127.0.0.1:1/v26/customers/1234567890/googleAds"
TIKTOK = "http://127.0.0.1:1/open_api/v1.3"
SNAP = "http://127.0.0.1:1/v1"


def _campaign_op(**fields: object) -> dict[str, object]:
    return {"mutateOperations": [{"campaignOperation": {"create": {"name": "c", **fields}}}]}


def test_google_start_date_is_refused_start_date_time_is_accepted() -> None:
    assert check(_json("POST", f"{GOOGLE}:mutate", _campaign_op(startDateTime="2025-03-03 00:00:00"))) == []
    problems = check(_json("POST", f"{GOOGLE}:mutate", _campaign_op(startDate="2025-03-03")))
    assert problems and "startDate" in problems[0]
    problems = check(_json("POST", f"{GOOGLE}:mutate", _campaign_op(bogusField=1)))
    assert problems and "bogusField" in problems[0]


def test_gaql_fields_must_exist_in_the_package() -> None:
    good = "SELECT campaign.id, metrics.clicks, segments.date FROM ad_group WHERE campaign.id = 1"
    assert check(_json("POST", f"{GOOGLE}:searchStream", {"query": good})) == []
    bad = "SELECT campaign.id, metrics.not_a_metric FROM campaign"
    assert check(_json("POST", f"{GOOGLE}:searchStream", {"query": bad})) == [
        "GAQL field metrics.not_a_metric is not defined"
    ]


def test_tiktok_filters_and_top_level_status_are_refused() -> None:
    report = {"advertiser_id": "1", "report_type": "BASIC", "filtering": [{"field_name": "campaign_ids"}]}
    assert check(_json("POST", f"{TIKTOK}/report/task/create/", report)) == []
    report["filters"] = report.pop("filtering")
    assert check(_json("POST", f"{TIKTOK}/report/task/create/", report)) == [
        "report/task/create/: filters is not a field of ReportTaskCreateBody"
    ]
    ad = {"adgroup_id": "1", "creatives": [{"ad_name": "a", "operation_status": "DISABLE", "nope": 1}]}
    assert check(_json("POST", f"{TIKTOK}/ad/create/", ad)) == [
        "ad/create/.creatives: nope is not a field of AdcreateCreatives"
    ]


def test_x_campaign_flight_and_meta_enums_are_refused() -> None:
    x = "http://127.0.0.1:1/12/accounts/abc/campaigns"
    assert check(_form("POST", x, "name=c&entity_status=PAUSED")) == []
    assert check(_form("POST", x, "name=c&start_time=2025-03-03T00:00:00Z")) == [
        "campaigns: start_time is not a Campaign property"
    ]
    meta = "http://127.0.0.1:1/v26.0/act_1/campaigns"
    assert check(_form("POST", meta, "name=c&objective=OUTCOME_LEADS")) == []
    assert check(_form("POST", meta, "name=c&objective=LEADS_PLEASE&colour=red")) == [
        "campaigns: colour is not a Campaign field",
        "campaigns: objective=LEADS_PLEASE is not a Campaign value",
    ]


def test_snapchat_partial_put_is_refused() -> None:
    whole = {"id": "x", "name": "c", "ad_account_id": "a", "status": "PAUSED", "start_time": "t"}
    verdict = judge(
        [
            _json("PUT", f"{SNAP}/adaccounts/a/campaigns", {"campaigns": [whole]}),
            _json("PUT", f"{SNAP}/adaccounts/a/campaigns", {"campaigns": [{"id": "x", "status": "ACTIVE"}]}),
        ]
    )
    assert verdict.checked == 2
    assert sorted(verdict.refused) == [
        "campaigns: PUT without ad_account_id",
        "campaigns: PUT without name",
        "campaigns: PUT without start_time",
    ]


def test_x_targeting_batch_is_checked_entry_by_entry() -> None:
    batch = "http://127.0.0.1:1/12/batch/accounts/abc/targeting_criteria"
    good = [
        {
            "operation_type": "Create",
            "params": {"line_item_id": "l1", "targeting_type": "LOCATION", "targeting_value": "v"},
        },
        {"operation_type": "Delete", "params": {"targeting_criterion_id": "t1"}},
    ]
    assert check(_json("POST", batch, good)) == []
    bad = [{"operation_type": "Replace", "params": {"line_item_id": "l1", "colour": "red"}}]
    assert check(_json("POST", batch, bad)) == [
        "batch: operation_type 'Replace' unknown",
        "batch targeting_criteria: colour is not a TargetingCriteria property",
    ]
