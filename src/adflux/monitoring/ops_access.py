"""Who may read /metrics and /readyz: anyone by default, or only a token holder or allowed addresses.

Both endpoints tell an outsider how the service is doing (versions, dependencies, queue lengths,
spend). When ADFLUX_METRICS_TOKEN / ADFLUX_READYZ_TOKEN or ADFLUX_OPS_ALLOWED_ADDRESSES is set, a
caller needs either the endpoint's token (``Authorization: Bearer <token>``) or an address inside
one of the allowed networks. /healthz stays open: it says only "alive".
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Response, request

from adflux.settings import Settings, parse_networks


def refusal(settings: Settings, token: str | None) -> Response | None:
    """None if this request may read the endpoint guarded by `token`; else the 401/403 to send."""
    networks = parse_networks(settings.ops_allowed_addresses)
    if not token and not networks:
        return None  # nothing configured: open, as probes without credentials expect
    if networks and _address_allowed(request.remote_addr, networks):
        return None
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return Response(
            "token required\n", status=401, mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"}
        )
    return Response("forbidden\n", status=403, mimetype="text/plain")


def _address_allowed(
    address: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
