"""Google OAuth 2.0 for the Google Ads adapter: the refresh-token exchange, as an httpx auth flow.

With ``refresh_token``, ``client_id`` and ``client_secret`` in the account's credentials, the flow
exchanges the refresh token for an access token at Google's token endpoint when it has none, when
the one it has is about to expire, and once when Google answers 401 UNAUTHENTICATED (an expired or
revoked access token); then it sends the refused request again, once. The new token is written back
into the account's credentials dict, so whoever keeps the credentials can keep it too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

logger = logging.getLogger(__name__)

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
EXPIRY_MARGIN = 60.0  # refresh this many seconds before the token's announced expiry
_REFRESH_KEYS = ("refresh_token", "client_id", "client_secret")


def can_refresh(credentials: dict[str, str]) -> bool:
    """Whether the credentials carry an OAuth client and a refresh token."""
    return all(credentials.get(key) for key in _REFRESH_KEYS)


def _token_refused(response: httpx.Response) -> bool:
    """A 401 about the OAuth token (not, say, a missing developer token, which a new token won't fix)."""
    if response.status_code != 401:
        return False
    return "DEVELOPER_TOKEN" not in response.text


class GoogleOAuth(httpx.Auth):
    """Bearer auth that refreshes the access token with the refresh token and retries once."""

    requires_response_body = True

    def __init__(
        self, credentials: dict[str, str], token_uri: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.credentials = credentials
        self.token_uri = token_uri
        self.clock = clock
        self.expires_at: float | None = None  # known once we refreshed ourselves
        self.refreshes = 0
        self._lock = threading.Lock()

    def _stale(self) -> bool:
        if not self.credentials.get("access_token"):
            return True
        return self.expires_at is not None and self.clock() >= self.expires_at - EXPIRY_MARGIN

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "refresh_token", **{key: self.credentials[key] for key in _REFRESH_KEYS}}
        return httpx.Request("POST", self.token_uri, data=form, headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> bool:
        """Keep the token from a token-endpoint answer; False (and a log line) when it refused."""
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        token = body.get("access_token") if response.status_code == 200 else None
        if not token:
            logger.warning(
                "google token refresh refused (%s): %s",
                response.status_code,
                body.get("error_description") or body.get("error") or response.reason_phrase,
            )
            return False
        with self._lock:
            self.credentials["access_token"] = str(token)
            expires_in = body.get("expires_in")
            self.expires_at = self.clock() + float(expires_in) if expires_in else None
            self.refreshes += 1
        return True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        refreshed = False
        if self._stale():
            refreshed = True
            self._accept((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self.credentials.get('access_token', '')}"
        response = yield request
        if refreshed or not _token_refused(response):
            return
        # httpx hands the caller the last response: after a refused refresh, that is Google's own
        # 401 for the request sent again (an AuthError), never the token endpoint's answer.
        self._accept((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self.credentials.get('access_token', '')}"
        yield request
