"""Issue 17: the Google adapter exchanges its refresh token at the (sandbox's) OAuth token endpoint when
its access token expires, and sends the refused call again once."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from adflux.constants import SANDBOX_GOOGLE_OAUTH
from adflux.platforms import PlatformAdapter
from adflux.platforms.errors import AuthError
from adflux.platforms.google_oauth import GoogleOAuth
from adflux.sandbox import SandboxServer
from adflux.sandbox import tokens as sandbox_tokens
from sandbox_oauth import google_token

AdapterFor = Callable[..., PlatformAdapter]


def _google(adapter_for: AdapterFor, access_token: str, **oauth: str) -> tuple[PlatformAdapter, GoogleOAuth]:
    credentials = {
        "access_token": access_token,
        "developer_token": "dev-token",
        **SANDBOX_GOOGLE_OAUTH,
        **oauth,
    }
    adapter = adapter_for("google", credentials=credentials)
    auth = adapter.transport.auth
    assert isinstance(auth, GoogleOAuth)
    return adapter, auth


def test_an_expired_access_token_is_refreshed_and_the_publish_goes_through(
    sandbox: SandboxServer, adapter_for: AdapterFor, make_spec
) -> None:
    with httpx.Client(base_url=sandbox.base_url) as http:
        expiring = google_token(http, lifetime=1)  # the token endpoint's answer, with a 1 s lifetime
    adapter, auth = _google(adapter_for, expiring)
    time.sleep(1.2)
    assert sandbox.state.token_state("google", expiring) == "expired"

    result = adapter.publish(make_spec())

    fresh = adapter.account.credentials["access_token"]
    assert auth.refreshes == 1 and fresh != expiring
    assert sandbox.state.token_state("google", fresh) == "valid"
    assert auth.expires_at is not None and auth.expires_at - time.time() > 3000  # Google's ~1 h
    assert sandbox.object_counts("google")["campaign"] == 1 and len(result.ads) == 2


def test_a_revoked_access_token_is_refreshed_once_per_expiry_not_per_call(
    sandbox: SandboxServer, adapter_for: AdapterFor, make_spec
) -> None:
    with httpx.Client(base_url=sandbox.base_url) as http:
        token = google_token(http)
    adapter, auth = _google(adapter_for, token)
    sandbox.expire_tokens("google", token)

    adapter.publish(make_spec())
    assert adapter.health().token_valid

    assert auth.refreshes == 1


def test_a_missing_access_token_is_obtained_first_and_one_about_to_expire_is_renewed_before_the_call(
    sandbox: SandboxServer, adapter_for: AdapterFor, transport_config
) -> None:
    adapter, auth = _google(adapter_for, "")
    assert adapter.health().token_valid and auth.refreshes == 1
    first = adapter.account.credentials["access_token"]

    transport_config.clock = lambda: time.time() + 3600  # an hour later: past the announced expiry
    assert adapter.health().token_valid

    assert auth.refreshes == 2 and adapter.account.credentials["access_token"] != first


@pytest.mark.parametrize(
    "oauth",
    [{"refresh_token": "1//not-issued-by-the-sandbox"}, {"client_secret": "wrong-secret"}],
    ids=["unknown-refresh-token", "wrong-client-secret"],
)
def test_a_refused_refresh_surfaces_as_the_platforms_auth_error(
    sandbox: SandboxServer, adapter_for: AdapterFor, make_spec, oauth: dict[str, str]
) -> None:
    adapter, auth = _google(adapter_for, "ya29.not-a-token-the-sandbox-issued", **oauth)

    with pytest.raises(AuthError) as refused:
        adapter.publish(make_spec())

    assert auth.refreshes == 0
    assert refused.value.status_code == 401 and refused.value.code == "OAUTH_TOKEN_INVALID"
    assert sandbox.object_counts("google").get("campaign", 0) == 0


def test_the_token_endpoint_issues_tokens_the_ads_api_accepts_only_for_registered_clients(
    sandbox: SandboxServer,
) -> None:
    form = {"grant_type": "refresh_token", **SANDBOX_GOOGLE_OAUTH}
    with httpx.Client(base_url=sandbox.base_url) as http:
        good = http.post("/token", data=form).json()
        bad_client = http.post("/token", data={**form, "client_secret": "x"})
        bad_grant = http.post("/token", data={**form, "refresh_token": "1//x"})
        unsupported = http.post("/token", data={**form, "grant_type": "password"})

    assert good["token_type"] == "Bearer" and good["expires_in"] == 3599
    assert good["scope"] == "https://www.googleapis.com/auth/adwords"
    assert sandbox_tokens.check("google", good["access_token"]) == "valid"
    assert (bad_client.status_code, bad_client.json()["error"]) == (401, "invalid_client")
    assert bad_grant.status_code == 400
    assert bad_grant.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert unsupported.json()["error"] == "unsupported_grant_type"
