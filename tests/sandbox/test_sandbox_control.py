"""The /__sandbox/ control endpoints and the platform-shaped throttling and auth errors."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from adflux.platforms.x import OAuth1Auth
from adflux.sandbox.x import SANDBOX_CREDENTIALS
from sandbox_oauth import ISSUED

META_CAMPAIGN = {
    "name": "c",
    "objective": "OUTCOME_TRAFFIC",
    "status": "PAUSED",
    "special_ad_categories": '["EMPLOYMENT"]',
    "special_ad_category_country": '["CO"]',
}


def _meta_create(http: httpx.Client, token: str | None = None) -> httpx.Response:
    token = ISSUED["meta"] if token is None else token
    return http.post("/v26.0/act_42/campaigns", data=META_CAMPAIGN, params={"access_token": token})


def test_clock_advances_and_reports_the_simulated_date(http):
    assert http.get("/__sandbox/clock").json() == {"today": "2025-03-03"}
    assert http.post("/__sandbox/clock/advance", json={"days": 14}).json() == {"today": "2025-03-17"}
    assert http.post("/__sandbox/clock/set", json={"date": "2025-04-01"}).json() == {"today": "2025-04-01"}


def test_objects_endpoint_counts_what_each_platform_holds(http):
    _meta_create(http)
    _meta_create(http)

    body = http.get("/__sandbox/objects", params={"platform": "meta"}).json()

    assert body["counts"] == {"campaign": 2}
    assert [obj["status"] for obj in body["objects"]] == ["PAUSED", "PAUSED"]
    assert http.get("/__sandbox/objects", params={"platform": "google"}).json()["counts"] == {}
    assert http.get("/__sandbox/objects").status_code == 400


def test_faults_are_set_read_and_reset(http):
    http.post("/__sandbox/faults", json={"platform": "tiktok", "latency_ms": 5, "error_rate": 0.5})

    faults = http.get("/__sandbox/faults").json()
    assert faults["tiktok"]["latency_ms"] == 5 and faults["meta"]["latency_ms"] == 0
    assert http.post("/__sandbox/faults", json={"nonsense": 1}).status_code == 400
    assert http.post("/__sandbox/faults/reset").json()["tiktok"]["error_rate"] == 0


def test_dropped_response_closes_the_connection_after_committing(http):
    http.post("/__sandbox/faults", json={"platform": "meta", "drop_after_commit": 1})

    with pytest.raises(httpx.RemoteProtocolError):
        _meta_create(http)

    assert http.get("/__sandbox/objects", params={"platform": "meta"}).json()["counts"] == {"campaign": 1}
    assert http.get("/__sandbox/stats").json()["dropped"] == {"meta": 1}


def test_a_drop_rate_drops_that_share_of_writes_after_committing(http):
    http.post("/__sandbox/faults", json={"platform": "meta", "drop_rate": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        _meta_create(http)
    http.post("/__sandbox/faults", json={"platform": "meta", "drop_rate": 0.0})

    assert _meta_create(http).status_code == 200
    assert http.get("/__sandbox/objects", params={"platform": "meta"}).json()["counts"] == {"campaign": 2}
    assert http.get("/__sandbox/stats").json()["dropped"] == {"meta": 1}


def test_injected_errors_are_counted_per_platform(http):
    http.post("/__sandbox/faults", json={"platform": "meta", "error_next": 2})

    statuses = [_meta_create(http).status_code for _ in range(3)]

    assert statuses[:2] == [500, 500] and statuses[2] == 200
    assert http.get("/__sandbox/stats").json()["injected_errors"] == {"meta": 2}
    assert http.get("/__sandbox/objects", params={"platform": "meta"}).json()["counts"] == {"campaign": 1}


def test_meta_throttle_is_a_400_with_code_80004_and_usage_headers(http):
    http.post("/__sandbox/faults", json={"platform": "meta", "throttle_next": 1, "throttle_retry_after": 180})

    response = _meta_create(http)

    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == 80004 and error["is_transient"] is True
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage["42"][0]["estimated_time_to_regain_access"] == 3
    assert json.loads(response.headers["x-ad-account-usage"])["reset_time_duration"] == 180


def test_configured_rate_limit_throttles_each_platform_in_its_own_shape(http):
    http.post("/__sandbox/rate_limits", json={"platform": "*", "per_second": 0.001, "burst": 1})
    headers = {"developer-token": "d", "Authorization": f"Bearer {ISSUED['google']}"}
    calls = {
        "meta": lambda: http.get("/v26.0/act_1/campaigns", params={"access_token": ISSUED["meta"]}),
        "google": lambda: http.post(
            "/v26/customers/1234567890/googleAds:searchStream",
            headers=headers,
            json={"query": "SELECT campaign.id FROM campaign"},
        ),
        "x": lambda: http.get(
            "/12/accounts/abc/campaigns",
            auth=OAuth1Auth(
                *(
                    SANDBOX_CREDENTIALS[key]
                    for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
                )
            ),
        ),
        "tiktok": lambda: http.get(
            "/open_api/v1.3/campaign/get/",
            params={"advertiser_id": "1"},
            headers={"Access-Token": ISSUED["tiktok"]},
        ),
        "snapchat": lambda: http.get("/v1/me", headers={"Authorization": f"Bearer {ISSUED['snapchat']}"}),
    }
    for call in calls.values():
        assert call().status_code == 200
    throttled = {platform: call() for platform, call in calls.items()}

    assert throttled["meta"].json()["error"]["code"] == 80004
    google = throttled["google"].json()["error"]
    assert throttled["google"].status_code == 429 and google["status"] == "RESOURCE_EXHAUSTED"
    detail = google["details"][0]["errors"][0]["details"]["quotaErrorDetails"]
    assert re.fullmatch(r"\d+\.\d+s", detail["retryDelay"])
    assert throttled["x"].status_code == 429 and int(throttled["x"].headers["x-rate-limit-reset"]) > 0
    assert throttled["tiktok"].status_code == 200 and throttled["tiktok"].json()["code"] == 40100
    assert throttled["snapchat"].status_code == 429
    assert throttled["snapchat"].json()["request_status"] == "ERROR"


def test_expired_tokens_are_rejected_until_restored(http):
    http.post("/__sandbox/tokens/expire", json={"platform": "meta"})

    error = _meta_create(http).json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (190, 463, "OAuthException")

    http.post("/__sandbox/tokens/restore", json={"platform": "meta"})
    assert _meta_create(http).status_code == 200


def test_x_rejects_a_bad_oauth_signature(http):
    auth = OAuth1Auth(
        SANDBOX_CREDENTIALS["consumer_key"],
        "wrong-secret",
        SANDBOX_CREDENTIALS["access_token"],
        SANDBOX_CREDENTIALS["access_token_secret"],
    )

    response = http.get("/12/accounts/abc", auth=auth)

    assert response.status_code == 401
    assert response.json()["errors"][0] == {"code": 32, "message": "Could not authenticate you."}


def test_unknown_paths_and_control_endpoints_are_404(http):
    assert http.get("/nothing/here").status_code == 404
    assert http.post("/__sandbox/nothing").status_code == 404
