"""The platforms' token endpoints, emulated: where clients obtain the access tokens the sandbox accepts.

- Meta: ``GET /vNN.0/oauth/access_token`` — ``code`` → short-lived user token, then
  ``grant_type=fb_exchange_token`` → long-lived token (60 days).
- Google: ``POST /token`` (oauth2.googleapis.com) — ``authorization_code`` or ``refresh_token`` grant.
- TikTok: ``POST /open_api/v1.3/oauth2/access_token/`` — ``auth_code`` → long-term token.
- Snapchat: ``POST /login/oauth2/access_token`` (accounts.snapchat.com) — code or refresh token.

The consent step a person does in a browser is ``POST /__sandbox/tokens/authorize`` (a code).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adflux.sandbox import tokens
from adflux.sandbox.http import Request, Response, json_response

_META = re.compile(r"^/v\d+\.\d+/oauth/access_token/?$")
_PATHS: dict[str, str] = {
    "/token": "google",
    "/open_api/v1.3/oauth2/access_token/": "tiktok",
    "/login/oauth2/access_token": "snapchat",
}


def _params(request: Request) -> dict[str, str]:
    if request.content_type == "application/json":
        body = request.json()
        return {key: str(value) for key, value in body.items()} if isinstance(body, dict) else {}
    return request.params()


class OAuthServer:
    """Routes the four token endpoints; each answers in its platform's own shape."""

    def matches(self, path: str) -> bool:
        return path in _PATHS or bool(_META.match(path))

    def handle(self, request: Request) -> Response:
        platform = "meta" if _META.match(request.path) else _PATHS[request.path]
        handler: Callable[[dict[str, str]], Response] = getattr(self, f"_{platform}")
        return handler(_params(request))

    # -- Meta ------------------------------------------------------------------------------------

    def _meta(self, params: dict[str, str]) -> Response:
        if not tokens.app_secret_valid("meta", params.get("client_id"), params.get("client_secret")):
            return _meta_error("Error validating client secret.", 1)
        if params.get("grant_type") == "fb_exchange_token":
            state = tokens.check("meta", params.get("fb_exchange_token"), "short")
            if state != "valid" and tokens.check("meta", params.get("fb_exchange_token")) != "valid":
                return _meta_error("Invalid OAuth access token - Cannot parse access token", 190)
            lifetime = tokens.LIFETIMES[("meta", "access")]
            token = tokens.issue("meta", "access")
            return json_response({"access_token": token, "token_type": "bearer", "expires_in": lifetime})
        if tokens.check("meta", params.get("code"), "code") != "valid":
            return _meta_error("This authorization code has expired.", 100, subcode=36007)
        token = tokens.issue("meta", "short")
        return json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": tokens.LIFETIMES[("meta", "short")]}
        )

    # -- Google ----------------------------------------------------------------------------------

    def _google(self, params: dict[str, str]) -> Response:
        if not tokens.app_secret_valid("google", params.get("client_id"), params.get("client_secret")):
            return _oauth_error("invalid_client", "Unauthorized", 401)
        answer: dict[str, Any] = {}
        grant = params.get("grant_type")
        if grant == "refresh_token":
            if tokens.check("google", params.get("refresh_token"), "refresh") != "valid":
                return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        elif grant == "authorization_code":
            if tokens.check("google", params.get("code"), "code") != "valid":
                return _oauth_error("invalid_grant", "Malformed auth code.")
            answer["refresh_token"] = tokens.issue("google", "refresh")
        else:
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
        lifetime = _lifetime(params, ("google", "access"))
        answer.update(
            access_token=tokens.issue("google", "access", lifetime),
            expires_in=lifetime,
            scope="https://www.googleapis.com/auth/adwords",
            token_type="Bearer",
        )
        return json_response(answer)

    # -- TikTok ----------------------------------------------------------------------------------

    def _tiktok(self, params: dict[str, str]) -> Response:
        request_id = datetime.now().strftime("%Y%m%d%H%M%S") + "OAUTH"
        if not tokens.app_secret_valid("tiktok", params.get("app_id"), params.get("secret")):
            return json_response(
                {
                    "code": 40001,
                    "message": "App ID or secret is invalid.",
                    "request_id": request_id,
                    "data": {},
                }
            )
        if tokens.check("tiktok", params.get("auth_code"), "code") != "valid":
            return json_response(
                {
                    "code": 40110,
                    "message": "Auth code is invalid or expired.",
                    "request_id": request_id,
                    "data": {},
                }
            )
        data = {
            "access_token": tokens.issue("tiktok", "access"),
            "advertiser_ids": ["7000000000000000001"],
            "scope": [1, 2, 3, 4],
        }
        return json_response({"code": 0, "message": "OK", "request_id": request_id, "data": data})

    # -- Snapchat --------------------------------------------------------------------------------

    def _snapchat(self, params: dict[str, str]) -> Response:
        if not tokens.app_secret_valid("snapchat", params.get("client_id"), params.get("client_secret")):
            return _oauth_error("invalid_client", "Invalid client credentials", 401)
        grant = params.get("grant_type")
        if grant == "refresh_token":
            valid = tokens.check("snapchat", params.get("refresh_token"), "refresh") == "valid"
        elif grant == "authorization_code":
            valid = tokens.check("snapchat", params.get("code"), "code") == "valid"
        else:
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
        if not valid:
            return _oauth_error("invalid_grant", "Invalid authorization code or refresh token")
        lifetime = _lifetime(params, ("snapchat", "access"))
        return json_response(
            {
                "access_token": tokens.issue("snapchat", "access", lifetime),
                "token_type": "Bearer",
                "expires_in": lifetime,
                "refresh_token": tokens.issue("snapchat", "refresh"),
                "scope": "snapchat-marketing-api",
            }
        )


def _lifetime(params: dict[str, str], key: tuple[str, str]) -> int:
    """The platform's lifetime; a test may ask for a shorter one (``sandbox_lifetime``, sandbox only)."""
    asked = params.get("sandbox_lifetime")
    return int(asked) if asked and asked.isdigit() else tokens.LIFETIMES[key]


def _meta_error(message: str, code: int, subcode: int | None = None) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "sandbox",
    }
    if subcode:
        error["error_subcode"] = subcode
    return json_response({"error": error}, 400)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def authorize(platform: str) -> dict[str, str]:
    """What the consent screen hands back to the app's redirect URI: an authorization code."""
    if platform not in ("meta", "google", "tiktok", "snapchat"):
        raise ValueError(f"{platform!r} has no OAuth 2 code flow in the sandbox (X signs with OAuth 1.0a)")
    return {"code": tokens.issue(platform, "code")}
