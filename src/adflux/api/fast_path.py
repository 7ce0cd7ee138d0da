"""Answers given in plain WSGI before Flask: the one mechanism the API's fast paths share.

One middleware in front of the Flask app holds a handler per path (`add`): the job list's
(`jobs_fast_path`) and the response-cache hits of the campaign, candidate and report lists
(`cached_list_hits`). For a plain `GET` of such a path — no body, no session cookie, not the CLI's
local admin — from a caller whose API token this process checked in the last seconds
(`auth_service.cached_principal`) and whose role is the one the route's `@requires` names, the
handler finds the answer (or None); the call is then counted against the token's rate limit, once,
and answered with what the Flask hooks would add: the request id, the security headers, the ETag,
304 and Cache-Control when the answer has an ETag, the response cache's lookup count, the
Prometheus counts and the alert window's sums, the JSON access line.

Everything else goes on to the Flask app (`inner`), which answers it as before: another path or
method, no token, a token this process has not checked recently, a role below the route's, a
request the handler leaves (None), a caller over its rate limit (the route answers the 429 with the
verdict counted here, see api/auth.py), any error raised while finding the answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from flask import Flask

from adflux.api import response_cache
from adflux.constants import LOCAL_ADMIN_ENVIRON_KEY, RATE_VERDICT_ENVIRON_KEY
from adflux.monitoring import logs, prometheus
from adflux.monitoring.prometheus import RESPONSE_CACHE_LOOKUPS
from adflux.services import auth as auth_service
from adflux.services import rate_limits
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

EXTENSION = "adflux_fast_paths"


class Found(NamedTuple):
    """An answer a handler found: its body, ETag (None: not from the response cache), Content-Type
    header, and the response cache's lookup to count once it is sent, as (endpoint, outcome)."""

    body: bytes
    etag: str | None
    content_type: str
    lookup: tuple[str, str] | None


class Handler(Protocol):
    """What answers one path (see `FastPaths.add`)."""

    route: str  # the route's rule, as the Flask hooks label it (Prometheus, the access line)
    role: str  # the least role the route's `@requires` names

    def find(self, query: str) -> Found | None:
        """The answer to `query` (the raw query string), or None: the route answers."""

    def close(self) -> None:
        """Let go of what this thread holds (a connection), if anything."""


class _Answer(list[bytes]):
    """The body, and what runs once the server has sent it (as Werkzeug's `call_on_close`)."""

    def __init__(self, body: bytes) -> None:
        super().__init__((body,))
        self._on_close: list[Callable[[], Any]] = []

    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]:
        self._on_close.append(func)
        return func

    def close(self) -> None:
        for func in self._on_close:
            func()


_Reply = tuple[str, list[tuple[str, str]], _Answer]


class FastPaths:
    """WSGI middleware in front of the Flask app (`inner`), answering the paths it has handlers for."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner
        self.settings = current_settings(app)
        self.handlers: dict[str, Handler] = {}
        self.security = list(app.extensions.get("adflux_security_headers", {}).items())

    def add(self, path: str, handler: Handler) -> None:
        """Answer `GET path` with `handler` when it can."""
        self.handlers[path] = handler

    def close(self) -> None:
        """Close what this thread's handlers hold (the next request opens it again)."""
        for handler in self.handlers.values():
            handler.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.handlers.get(environ.get("PATH_INFO", ""))
        if (
            handler is None
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_COOKIE" in environ
            or LOCAL_ADMIN_ENVIRON_KEY in environ
            or environ.get("CONTENT_LENGTH") not in (None, "", "0")  # a body: the route's guards read it
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            return self.inner(environ, start_response)
        started = time.perf_counter()
        try:
            answer = self._answer(handler, environ, started)
        except Exception as error:  # the database, mostly: the route answers (or meets it as a 503)
            logger.warning("fast path of %s unavailable (%s)", handler.route, type(error).__name__)
            answer = None
        if answer is None:
            return self.inner(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return body

    def _answer(self, handler: Handler, environ: dict[str, Any], started: float) -> _Reply | None:
        principal = _principal(environ.get("HTTP_AUTHORIZATION"))
        if principal is None or not principal.has_role(handler.role):
            return None
        found = handler.find(environ.get("QUERY_STRING", ""))
        if found is None or not self._within_rate(environ, principal):
            return None
        if found.lookup is not None:  # counted whether metrics are on or not, as cached_read counts
            RESPONSE_CACHE_LOOKUPS.labels(*found.lookup).inc()
        return self._respond(environ, started, principal, handler.route, found)

    def _within_rate(self, environ: dict[str, Any], principal: auth_service.Principal) -> bool:
        """The token's rate limit, counted last and once (over it: the route answers the 429)."""
        if principal.token_id is None or self.settings.api_rate_limit_per_minute <= 0:
            return True
        verdict = rate_limits.check_token_rate(principal.token_id, self.settings)
        # Over it, the route answers the 429 with this verdict, without counting the call again.
        environ[RATE_VERDICT_ENVIRON_KEY] = (principal.token_id, verdict)
        return verdict.allowed

    def _respond(
        self,
        environ: dict[str, Any],
        started: float,
        principal: auth_service.Principal,
        route: str,
        found: Found,
    ) -> _Reply:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if logs.valid_request_id(incoming) else uuid.uuid4().hex
        body, etag = found.body, found.etag
        code, headers = 200, [("Content-Type", found.content_type), ("Content-Length", str(len(body)))]
        if etag is not None:
            if response_cache.matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
                code, body, headers = 304, b"", []
            headers += [("ETag", f'"{etag}"'), ("Cache-Control", response_cache.CACHE_CONTROL)]
        headers += [*self.security, (logs.REQUEST_ID_HEADER, request_id)]
        answer = _Answer(body)
        elapsed = time.perf_counter() - started
        if self.settings.metrics_enabled:
            prometheus.count_answer(self.app, answer, "GET", route, code, elapsed)
        if self.settings.access_log:
            logs.access_line("GET", environ["PATH_INFO"], route, code, elapsed, principal, request_id)
        return ("200 OK" if code == 200 else "304 NOT MODIFIED"), headers, answer


def _principal(header: str | None) -> auth_service.Principal | None:
    """The caller of a well-formed bearer header whose token this process checked recently."""
    if not header:
        return None
    scheme, _space, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return auth_service.cached_principal(token)


def of(app: Flask) -> FastPaths:
    """The app's fast paths, put in front of it on first use (before ProxyFix wraps them, see
    app.create_app); `inner` is what stands behind them: the Flask app (for tests)."""
    paths: FastPaths | None = app.extensions.get(EXTENSION)
    if paths is None:
        paths = app.extensions[EXTENSION] = FastPaths(app, app.wsgi_app)
        app.wsgi_app = paths  # type: ignore[method-assign]
    return paths
