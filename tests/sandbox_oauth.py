"""Obtain the access tokens the sandbox accepts the way an app does: through each platform's token
endpoint (the consent step a person does in the browser is the sandbox's /__sandbox/tokens/authorize)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import httpx

from adflux.constants import SANDBOX_GOOGLE_OAUTH
from adflux.sandbox.x import SANDBOX_CREDENTIALS

META_APP = {"client_id": "1000000000000001", "client_secret": "sandbox-meta-app-secret"}
TIKTOK_APP = {"app_id": "7000000000000000099", "secret": "sandbox-tiktok-app-secret"}
SNAP_APP = {"client_id": "sandbox-snap-client", "client_secret": "sandbox-snap-client-secret"}
REDIRECT = "https://adflux.example.co/oauth/callback"


def consent(http: httpx.Client, platform: str) -> str:
    """The authorization code the platform's consent screen would send to our redirect URI."""
    answer = http.post("/__sandbox/tokens/authorize", json={"platform": platform})
    answer.raise_for_status()
    return str(answer.json()["code"])


def meta_token(http: httpx.Client) -> str:
    """Login code → short-lived user token → long-lived token (fb_exchange_token)."""
    short = http.get(
        "/v26.0/oauth/access_token",
        params={**META_APP, "redirect_uri": REDIRECT, "code": consent(http, "meta")},
    ).json()["access_token"]
    long_lived = http.get(
        "/v26.0/oauth/access_token",
        params={**META_APP, "grant_type": "fb_exchange_token", "fb_exchange_token": short},
    )
    return str(long_lived.json()["access_token"])


def google_token(http: httpx.Client, lifetime: int | None = None) -> str:
    """An access token for the registered refresh token (``lifetime``: shorter, sandbox only)."""
    form = {"grant_type": "refresh_token", **SANDBOX_GOOGLE_OAUTH}
    if lifetime is not None:
        form["sandbox_lifetime"] = str(lifetime)
    return str(http.post("/token", data=form).json()["access_token"])


def tiktok_token(http: httpx.Client) -> str:
    answer = http.post(
        "/open_api/v1.3/oauth2/access_token/", json={**TIKTOK_APP, "auth_code": consent(http, "tiktok")}
    )
    return str(answer.json()["data"]["access_token"])


def snapchat_token(http: httpx.Client) -> str:
    answer = http.post(
        "/login/oauth2/access_token",
        data={
            **SNAP_APP,
            "grant_type": "authorization_code",
            "code": consent(http, "snapchat"),
            "redirect_uri": REDIRECT,
        },
    )
    return str(answer.json()["access_token"])


def issued_credentials(base_url: str) -> dict[str, dict[str, str]]:
    """Per platform, credentials with a token the sandbox issued (X: its registered OAuth 1.0a pair)."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        return {
            "meta": {"access_token": meta_token(http)},
            "google": {"access_token": google_token(http), "developer_token": "dev-token"},
            "x": dict(SANDBOX_CREDENTIALS),
            "tiktok": {"access_token": tiktok_token(http)},
            "snapchat": {"access_token": snapchat_token(http)},
        }


# Platform -> an access token a sandbox issued; filled once per session by the sandbox fixtures
# (:func:`obtain`), read when a request is built (:class:`Issued`). Tokens are signed by the
# sandbox, so one issued by any sandbox of this run is good for all of them.
ISSUED: dict[str, str] = {}


def obtain(base_url: str) -> dict[str, str]:
    """Fill :data:`ISSUED` through the token endpoints of the sandbox at ``base_url`` (once)."""
    if not ISSUED:
        credentials = issued_credentials(base_url)
        ISSUED.update({platform: values["access_token"] for platform, values in credentials.items()})
    return ISSUED


class Issued(Mapping[str, str]):
    """Headers or parameters whose ``{token}`` is the platform's issued token, read when used."""

    def __init__(self, platform: str, template: dict[str, str]) -> None:
        self.platform = platform
        self.template = template

    def __getitem__(self, key: str) -> str:
        return self.template[key].format(token=ISSUED[self.platform])

    def __iter__(self) -> Iterator[str]:
        return iter(self.template)

    def __len__(self) -> int:
        return len(self.template)
