"""The portal's postbacks are signed: `X-AdFlux-Signature: t=<unix seconds>,v1=<hex>` where v1 is
HMAC-SHA256(secret, "<t>." + body). Old, future or already-seen signatures are refused (replay)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from adflux.catalogue import gettext as _
from adflux.services import rate_limits
from adflux.services.errors import Unauthenticated
from adflux.settings import Settings, current_settings

HEADER = "X-AdFlux-Signature"


def sign(secret: str, body: bytes, at: int | None = None) -> str:
    """The header value for `body` (what the portal computes; tests and the bench use it too)."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(header: str | None, body: bytes) -> None:
    """Raise Unauthenticated unless `header` signs `body` now, for the first time."""
    settings = current_settings()
    if not settings.tracking_postback_secret:
        raise Unauthenticated(_("Postbacks are off: ADFLUX_TRACKING_POSTBACK_SECRET is not set"))
    if not header:
        raise Unauthenticated(_("Missing %(header)s header", header=HEADER))
    parts = dict(item.partition("=")[::2] for item in header.split(","))
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise Unauthenticated(_("%(header)s must read t=<unix seconds>,v1=<hex HMAC-SHA256>", header=HEADER))
    if abs(time.time() - int(stamp)) > settings.tracking_postback_tolerance_seconds:
        raise Unauthenticated(_("The signature is too old or from the future (replay refused)"))
    expected = sign(settings.tracking_postback_secret, body, int(stamp)).partition("v1=")[2]
    if not hmac.compare_digest(expected, given):
        raise Unauthenticated(_("The signature does not match the body"))
    if not _first_use(settings, given):
        raise Unauthenticated(_("This signature was already used (replay refused)"))


_seen: dict[str, float] = {}
_seen_lock = threading.Lock()


def _first_use(settings: Settings, signature: str) -> bool:
    ttl = 2 * settings.tracking_postback_tolerance_seconds + 1
    url = rate_limits.redis_url(settings)
    if url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return bool(client.set(f"adflux:postback-sig:{signature}", 1, nx=True, ex=ttl))
    now = time.time()
    with _seen_lock:
        if len(_seen) > 100_000:
            for key in [k for k, until in _seen.items() if until < now]:
                del _seen[key]
        if _seen.get(signature, 0) >= now:
            return False
        _seen[signature] = now + ttl
        return True
