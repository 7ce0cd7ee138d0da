"""The credentials the sandbox issues and accepts, like a platform's OAuth server would.

A token is signed with the sandbox's key (public: the sandbox is a test double), so every sandbox
process sharing a store knows the tokens any of them issued, and a token carries its own expiry
(real time, as the platforms' tokens do). Besides issued tokens, the sandbox accepts only the
tokens registered for its test accounts (:data:`adflux.constants.SANDBOX_ACCOUNTS`); any other
string is refused with the platform's "invalid token" error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from adflux.constants import SANDBOX_ACCOUNTS, SANDBOX_GOOGLE_OAUTH

_KEY = b"adflux-sandbox-oauth-server"
# How each platform's tokens look (a prefix only; nothing parses them but the sandbox).
_PREFIX = {"meta": "EAAS", "google": "ya29.", "tiktok": "tt.", "snapchat": "snap.", "x": "x."}
# Lifetimes as the platforms document them (seconds; 0 = does not expire).
LIFETIMES = {
    ("meta", "short"): 2 * 3600,
    ("meta", "access"): 60 * 86400,  # long-lived user token
    ("google", "access"): 3599,
    ("google", "refresh"): 0,
    ("tiktok", "access"): 0,  # TikTok's Marketing API tokens are long-term
    ("snapchat", "access"): 1800,
    ("snapchat", "refresh"): 0,
    ("meta", "code"): 600,
    ("google", "code"): 600,
    ("tiktok", "code"): 3600,
    ("snapchat", "code"): 600,
}

# The OAuth apps registered with the sandbox: client id -> secret, per platform.
APPS: dict[str, dict[str, str]] = {
    "meta": {"1000000000000001": "sandbox-meta-app-secret"},
    "google": {SANDBOX_GOOGLE_OAUTH["client_id"]: SANDBOX_GOOGLE_OAUTH["client_secret"]},
    "tiktok": {"7000000000000000099": "sandbox-tiktok-app-secret"},
    "snapchat": {"sandbox-snap-client": "sandbox-snap-client-secret"},
}


def _registered() -> dict[tuple[str, str], set[str]]:
    """(platform, kind) -> the tokens registered for the sandbox's test accounts."""
    registered: dict[tuple[str, str], set[str]] = {(platform, "access"): set() for platform in _PREFIX}
    for platform, account in SANDBOX_ACCOUNTS.items():
        token = account["credentials"].get("access_token")
        if token:
            registered[(platform, "access")].add(token)
    registered[("google", "refresh")] = {SANDBOX_GOOGLE_OAUTH["refresh_token"]}
    return registered


REGISTERED = _registered()


def _sign(payload: bytes) -> str:
    return hmac.new(_KEY, payload, hashlib.sha256).hexdigest()[:24]


def issue(platform: str, kind: str = "access", lifetime: int | None = None, **claims: Any) -> str:
    """A new token (``kind`` access, refresh, short or code) of ``platform``, signed by the sandbox.

    ``lifetime`` overrides the platform's own (seconds; 0 = never expires)."""
    seconds = LIFETIMES.get((platform, kind), 0) if lifetime is None else lifetime
    body = {"p": platform, "k": kind, "e": int(time.time() + seconds) if seconds else 0, **claims}
    body["n"] = secrets.token_hex(6)
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    return f"{_PREFIX[platform]}{payload.rstrip('=')}.{_sign(payload.rstrip('=').encode())}"


def claims(platform: str, token: str | None, kind: str = "access") -> dict[str, Any] | None:
    """The claims of a token the sandbox issued for ``platform`` and ``kind`` (even expired), else None."""
    prefix = _PREFIX[platform]
    if not token or not token.startswith(prefix) or "." not in token[len(prefix) :]:
        return None
    payload, _, signature = token[len(prefix) :].rpartition(".")
    if not hmac.compare_digest(signature, _sign(payload.encode())):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("p") != platform or body.get("k") != kind:
        return None
    return body


def check(platform: str, token: str | None, kind: str = "access") -> str:
    """ "missing", "invalid" (not one the sandbox issued or registered), "expired" or "valid"."""
    if not token:
        return "missing"
    if token in REGISTERED.get((platform, kind), ()):
        return "valid"
    body = claims(platform, token, kind)
    if body is None:
        return "invalid"
    if body["e"] and body["e"] <= time.time():
        return "expired"
    return "valid"


def app_secret_valid(platform: str, client_id: str | None, client_secret: str | None) -> bool:
    """Whether ``client_id``/``client_secret`` is an OAuth app registered with the sandbox."""
    known = APPS.get(platform, {}).get(client_id or "")
    return known is not None and hmac.compare_digest(known, client_secret or "")
