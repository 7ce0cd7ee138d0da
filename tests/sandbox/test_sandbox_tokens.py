"""Issue 17: the sandbox accepts only access tokens it issued (or registered for its test accounts) and
refuses any other with each platform's own error; its token endpoints issue them as the platforms do."""

from __future__ import annotations

import time

import httpx

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.platforms.x import OAuth1Auth
from adflux.sandbox import tokens
from adflux.sandbox.x import SANDBOX_CREDENTIALS
from sandbox_oauth import ISSUED, META_APP, REDIRECT, SNAP_APP, TIKTOK_APP, consent

MADE_UP = "EAAmade-up-token-0123456789"


def _calls(http: httpx.Client, token: str) -> dict[str, httpx.Response]:
    """One cheap authenticated read per platform, with ``token`` (X: as the OAuth 1.0a token)."""
    x_auth = OAuth1Auth(
        SANDBOX_CREDENTIALS["consumer_key"],
        SANDBOX_CREDENTIALS["consumer_secret"],
        token,
        SANDBOX_CREDENTIALS["access_token_secret"],
    )
    search = "/v26/customers/1234567890/googleAds:searchStream"
    return {
        "meta": http.get("/v26.0/act_1/campaigns", params={"access_token": token}),
        "google": http.post(
            search,
            headers={"developer-token": "d", "Authorization": f"Bearer {token}"},
            json={"query": "SELECT campaign.id FROM campaign"},
        ),
        "tiktok": http.get(
            "/open_api/v1.3/campaign/get/", params={"advertiser_id": "1"}, headers={"Access-Token": token}
        ),
        "snapchat": http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}),
        "x": http.get("/12/accounts/18ce54d4x5t/campaigns", auth=x_auth),
    }


def test_a_token_the_sandbox_never_issued_is_refused_in_each_platforms_shape(http):
    refused = _calls(http, MADE_UP)

    meta = refused["meta"].json()["error"]
    assert refused["meta"].status_code == 400 and (meta["code"], meta["type"]) == (190, "OAuthException")
    assert "Invalid OAuth access token" in meta["message"] and "error_subcode" not in meta
    google = refused["google"].json()["error"]
    assert refused["google"].status_code == 401 and google["status"] == "UNAUTHENTICATED"
    assert google["details"][0]["errors"][0]["errorCode"] == {"authenticationError": "OAUTH_TOKEN_INVALID"}
    assert refused["tiktok"].status_code == 200 and refused["tiktok"].json()["code"] == 40105
    assert refused["snapchat"].status_code == 401
    assert refused["snapchat"].json()["request_status"] == "ERROR"
    assert refused["x"].status_code == 401
    assert refused["x"].json()["errors"] == [{"code": 89, "message": "Invalid or expired token."}]


def test_issued_and_registered_tokens_are_accepted_and_an_expired_one_is_refused_as_expired(http):
    issued = {
        platform: _calls(http, ISSUED[platform])[platform] for platform in ("meta", "google", "snapchat")
    }
    issued["tiktok"] = _calls(http, ISSUED["tiktok"])["tiktok"]
    registered = _calls(http, SANDBOX_ACCOUNTS["meta"]["credentials"]["access_token"])["meta"]
    x_registered = _calls(http, SANDBOX_CREDENTIALS["access_token"])["x"]
    short = http.post("/__sandbox/tokens/issue", json={"platform": "meta", "lifetime": 1}).json()
    time.sleep(1.2)
    expired = _calls(http, short["access_token"])["meta"].json()["error"]

    assert {platform: answer.status_code for platform, answer in issued.items()} == dict.fromkeys(issued, 200)
    assert issued["tiktok"].json()["code"] == 0
    assert registered.status_code == 200 and x_registered.status_code == 200
    assert (expired["code"], expired["error_subcode"]) == (190, 463)


def test_meta_login_code_short_lived_then_long_lived_token(http):
    code = consent(http, "meta")
    short = http.get("/v26.0/oauth/access_token", params={**META_APP, "redirect_uri": REDIRECT, "code": code})
    exchange = {
        **META_APP,
        "grant_type": "fb_exchange_token",
        "fb_exchange_token": short.json()["access_token"],
    }
    long_lived = http.get("/v26.0/oauth/access_token", params=exchange).json()
    wrong_secret = http.get("/v26.0/oauth/access_token", params={**exchange, "client_secret": "x"})
    made_up = http.get("/v26.0/oauth/access_token", params={**exchange, "fb_exchange_token": MADE_UP})

    assert short.json()["expires_in"] == 7200 and long_lived["expires_in"] == 60 * 86400
    assert (
        long_lived["token_type"] == "bearer" and tokens.check("meta", long_lived["access_token"]) == "valid"
    )
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"]["type"] == "OAuthException"
    assert made_up.json()["error"]["code"] == 190


def test_tiktok_auth_code_and_snapchat_code_and_refresh_grants(http):
    tiktok = http.post(
        "/open_api/v1.3/oauth2/access_token/", json={**TIKTOK_APP, "auth_code": consent(http, "tiktok")}
    ).json()
    tiktok_bad = http.post(
        "/open_api/v1.3/oauth2/access_token/", json={**TIKTOK_APP, "auth_code": "x"}
    ).json()
    snap_form = {**SNAP_APP, "grant_type": "authorization_code", "redirect_uri": REDIRECT}
    snap = http.post(
        "/login/oauth2/access_token", data={**snap_form, "code": consent(http, "snapchat")}
    ).json()
    refresh = {**SNAP_APP, "grant_type": "refresh_token", "refresh_token": snap["refresh_token"]}
    renewed = http.post("/login/oauth2/access_token", data=refresh).json()
    snap_bad = http.post("/login/oauth2/access_token", data={**refresh, "refresh_token": "x"})

    assert tiktok["code"] == 0 and tokens.check("tiktok", tiktok["data"]["access_token"]) == "valid"
    assert tiktok["data"]["advertiser_ids"] == ["7000000000000000001"]
    assert tiktok_bad["code"] == 40110
    assert snap["token_type"] == "Bearer" and snap["expires_in"] == 1800
    assert tokens.check("snapchat", renewed["access_token"]) == "valid"
    assert renewed["access_token"] != snap["access_token"]
    assert snap_bad.status_code == 400 and snap_bad.json()["error"] == "invalid_grant"


def test_a_code_is_not_an_access_token_and_tokens_do_not_cross_platforms(http):
    code = consent(http, "google")
    as_token = _calls(http, code)["google"]
    meta_token_on_tiktok = _calls(http, ISSUED["meta"])["tiktok"].json()

    assert as_token.status_code == 401
    assert meta_token_on_tiktok["code"] == 40105


def test_meta_debug_token_tells_an_issued_token_its_expiry_and_a_made_up_one_invalid(http):
    issued = http.get(
        "/v26.0/debug_token", params={"input_token": ISSUED["meta"], "access_token": ISSUED["meta"]}
    )
    made_up = http.get("/v26.0/debug_token", params={"input_token": MADE_UP, "access_token": ISSUED["meta"]})

    data = issued.json()["data"]
    assert data["is_valid"] and data["type"] == "USER"
    assert 59 * 86400 < data["expires_at"] - time.time() <= 60 * 86400  # a long-lived token's 60 days
    refused = made_up.json()["data"]
    assert not refused["is_valid"] and refused["error"]["code"] == 190 and "subcode" not in refused["error"]
