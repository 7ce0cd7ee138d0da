"""Base class for one emulated platform API: routing, auth and error rendering hooks."""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from adflux.sandbox.http import ApiError, Request, Response
from adflux.sandbox.state import SandboxState

logger = logging.getLogger(__name__)


class PlatformApi:
    """Routes requests under ``prefix`` to methods decorated with :func:`route`."""

    platform = ""
    prefix: re.Pattern[str] = re.compile("^$")

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._routes = []
        for name in dir(type(self)):
            func = getattr(type(self), name)
            for method, pattern in getattr(func, "_routes", ()):
                self._routes.append((method, pattern, getattr(self, name)))

    def matches(self, path: str) -> bool:
        return bool(self.prefix.match(path))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self._routes:
            found = pattern.match(request.path)
            if not found:
                continue
            allowed = True
            if method == request.method:
                request.path_params = found.groupdict()
                return handler(request, **found.groupdict())
        if allowed:
            raise ApiError("validation", f"Unsupported {request.method} request", status=405)
        raise ApiError("not_found", f"Unknown path components: {request.path}", status=404)

    # -- hooks ---------------------------------------------------------------------------------

    def token(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return None

    def authenticate(self, request: Request) -> None:
        """Raise an auth ApiError unless the request carries a valid token."""
        state = self.state.token_state(self.platform, self.token(request))
        if state != "valid":
            raise ApiError(
                "auth",
                "missing access token" if state == "missing" else "access token expired",
                extra={"token_state": state},
            )

    def rate_key(self, request: Request) -> str:
        return self.token(request) or "anonymous"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError("throttle", "Too many requests", status=429, retry_after=wait)

    def transient_error(self) -> ApiError:
        return ApiError(
            "server", "An unexpected error has occurred. Please retry your request later.", status=503
        )

    def render_error(self, error: ApiError, request: Request) -> Response:
        raise NotImplementedError

    def decorate(self, response: Response, request: Request) -> Response:
        """Add usage headers etc. to successful responses."""
        return response


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(json.loads(base64.urlsafe_b64decode(padded))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError("validation", f"Invalid cursor: {cursor}") from exc


def url_with(request: Request, **changes: Any) -> str:
    """The request's URL with some query parameters replaced."""
    params = {key: values[0] for key, values in request.query.items()}
    params.update({key: str(value) for key, value in changes.items()})
    return f"{request.host_url}{request.path}?{urlencode(params)}"


def loads_maybe(value: str | None, default: Any = None) -> Any:
    """Parse a JSON-encoded parameter, accepting plain strings too."""
    if value is None:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return value


def utc_day(value: str | None) -> date | None:
    """The UTC date of an ISO 8601 timestamp (``Z`` allowed), or None when missing or malformed."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date()
    except ValueError:
        return None
