"""The tracking redirect's fast path: `GET /r/<code>` of a link this process already knows, answered
in plain WSGI before Flask (no request object, no hooks): count the address, put the click in the
shared Redis buffer, 302. Everything else — a link's first click in a process, an unknown code, no
shared buffer, write-behind off, Redis down — goes on to the Flask route, which does the same work
the slow way, so a click is never lost and the answers are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from adflux.monitoring.prometheus import HTTP_REQUESTS
from adflux.services import rate_limits
from adflux.services.tracking import click_buffer, clicks
from adflux.settings import current_settings

logger = logging.getLogger(__name__)
PREFIX = "/r/"
ROUTE = "/r/<code>"


class TrackingFastPath:
    """WSGI middleware in front of the Flask app for the tracking redirect."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        settings = current_settings(app)
        self.app = app
        self.inner = inner
        self.settings = settings
        self.enabled = settings.tracking_click_write_behind and click_buffer.is_shared(settings)
        self.secret = settings.secret_key.encode()
        self.limit = settings.tracking_clicks_per_address_per_minute
        # The headers security_headers.init_app adds to every Flask response (it runs before the API).
        shared: dict[str, str] = app.extensions.get("adflux_security_headers", {})
        self.headers = [*shared.items(), ("Cache-Control", "no-store")]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not (self.enabled and path.startswith(PREFIX) and environ.get("REQUEST_METHOD") == "GET"):
            return self.inner(environ, start_response)
        target = clicks.cached_target(path[len(PREFIX) :])
        if target is None:
            return self.inner(environ, start_response)
        address = environ.get("REMOTE_ADDR")
        location = None
        try:
            if not (self.limit and address and self._flood(address)):  # a flood: the route sends it on
                location = self._record(environ, target, address)
        except Exception as error:  # Redis cannot take it: the Flask route writes the click directly
            logger.warning("tracking fast path unavailable (%s)", type(error).__name__)
        if location is None:
            return self.inner(environ, start_response)
        start_response("302 FOUND", [("Location", location), ("Content-Length", "0"), *self.headers])
        HTTP_REQUESTS.labels("GET", ROUTE, "302").inc()
        return [b""]

    def _record(self, environ: dict[str, Any], target: Any, address: str | None) -> str:
        """Buffer the click; the URL to send the visitor to."""
        args: dict[str, str] = {}
        for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            args.setdefault(name, value)
        visitor = clicks.visitor_key(address, environ.get("HTTP_USER_AGENT"), secret=self.secret)
        return clicks.buffer_click(self.app, self.settings, target, args, visitor)

    def _flood(self, address: str) -> bool:
        """Whether this address is over its clicks per minute (counted here, as the route would)."""
        store = rate_limits.store(self.settings)
        count, _ = store.window_hit(f"click:{address}", self.limit, 60_000, rate_limits.now_ms())
        return count > self.limit


def install(app: Flask) -> None:
    """Put the fast path in front of the app (before ProxyFix wraps both, see app.create_app)."""
    app.wsgi_app = TrackingFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
