"""The job list's fast path: `GET /api/v1/jobs` answered in plain WSGI before Flask, for a caller
whose API token this process already knows, with the common query (page, page_size, status,
category, modality). The page comes from PostgreSQL as JSON text on a connection kept per process
(`services.job_page_json`); what the Flask hooks add is added here the same way — the request id,
the security headers, the response cache's ETag, 304 and Cache-Control when the cache is on, the
Prometheus counts and the alert window's sums, the JSON access line.

Everything else goes on to the Flask route, which answers it as before: no token, a token this
process has not checked in the last seconds (the route checks it and caches it), a session cookie,
the CLI's local admin, other query arguments or values the schema would refuse or read otherwise
(`city`, `q`, repeated or unknown names, numbers not written plainly), a total past the count cap,
a caller over its rate limit, any database error (after which the next request opens a new
connection). So the answers are the same, only cheaper (bench/README.md, "The job list's fast
path").
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from adflux.api import response_cache
from adflux.constants import (
    JOB_CATEGORIES,
    JOB_STATUSES,
    LOCAL_ADMIN_ENVIRON_KEY,
    MODALITIES,
    RATE_VERDICT_ENVIRON_KEY,
)
from adflux.extensions import db
from adflux.monitoring import logs, prometheus
from adflux.monitoring.prometheus import RESPONSE_CACHE_LOOKUPS
from adflux.services import auth as auth_service
from adflux.services import job_page_json, rate_limits
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

PATH = "/api/v1/jobs"
ROUTE = PATH  # the route's rule, as the Flask hooks label it
ENDPOINT = "jobs.JobList"
CHOICES = {"status": JOB_STATUSES, "category": JOB_CATEGORIES, "modality": MODALITIES}
# What PageArgsSchema accepts, written the one plain way (anything else: the route's parsing).
NUMBER = re.compile(r"[1-9][0-9]{0,6}")
LIMITS = {"page": 1_000_000, "page_size": 200}


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


class JobsFastPath:
    """WSGI middleware in front of the Flask app for the job list."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner
        self.settings = current_settings(app)
        self.reader: job_page_json.JobPageReader | None = None
        with app.app_context():
            engine = db.engine
            if job_page_json.usable(engine):
                self.reader = job_page_json.JobPageReader(engine, timed=self.settings.metrics_enabled)
        self.security = list(app.extensions.get("adflux_security_headers", {}).items())

    def close(self) -> None:
        """Close this thread's database connection (the next request opens another)."""
        if self.reader is not None:
            self.reader.drop()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            self.reader is None
            or environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_COOKIE" in environ
            or LOCAL_ADMIN_ENVIRON_KEY in environ
        ):
            return self.inner(environ, start_response)
        started = time.perf_counter()
        try:
            answer = self._answer(environ, started)
        except Exception as error:  # the database, mostly: the route answers (or meets it as a 503)
            logger.warning("job list fast path unavailable (%s)", type(error).__name__)
            answer = None
        if answer is None:
            return self.inner(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return body

    def _answer(
        self, environ: dict[str, Any], started: float
    ) -> tuple[str, list[tuple[str, str]], _Answer] | None:
        principal = _principal(environ.get("HTTP_AUTHORIZATION"))
        query = environ.get("QUERY_STRING", "")
        args = _arguments(query)
        if principal is None or args is None or not principal.has_role("viewer"):
            return None
        filters, page, page_size = args
        cache: response_cache.ResponseCache | None = self.app.extensions.get(response_cache.EXTENSION)
        reader = self.reader
        assert reader is not None
        etag = None
        if cache is None:
            found = reader.read(filters, page=page, page_size=page_size)
            body = found.body() if found is not None else None
        else:
            token = reader.token()
            if token is None:  # no version yet: the route reads without its cache ("bypass")
                return None
            key = (ENDPOINT, tuple(sorted(parse_qsl(query, keep_blank_values=True))), (token,))
            entry = cache.get(key)
            if entry is None:
                found = reader.read(filters, page=page, page_size=page_size)
                if found is None:
                    return None
                entry = response_cache.Entry(found.body(), "application/json", response_cache.etag_of(key))
                cache.put(key, entry)
                outcome = "miss"
            else:
                outcome = "hit"
            body, etag = entry.body, entry.etag
        if body is None or not self._within_rate(environ, principal):
            return None
        if cache is not None:  # counted whether metrics are on or not, as cached_read counts
            RESPONSE_CACHE_LOOKUPS.labels(ENDPOINT, outcome).inc()
        return self._respond(environ, started, principal, body, etag)

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
        body: bytes,
        etag: str | None,
    ) -> _Reply:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if logs.valid_request_id(incoming) else uuid.uuid4().hex
        code, headers = 200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if etag is not None:
            if response_cache.matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
                code, body, headers = 304, b"", []
            headers += [("ETag", f'"{etag}"'), ("Cache-Control", response_cache.CACHE_CONTROL)]
        headers += [*self.security, (logs.REQUEST_ID_HEADER, request_id)]
        answer = _Answer(body)
        elapsed = time.perf_counter() - started
        if self.settings.metrics_enabled:
            prometheus.count_answer(self.app, answer, "GET", ROUTE, code, elapsed)
        if self.settings.access_log:
            logs.access_line("GET", PATH, ROUTE, code, elapsed, principal, request_id)
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


def _arguments(query: str) -> tuple[dict[str, str], int, int] | None:
    """(filters, page, page_size) of a query the fast path serves, else None."""
    filters: dict[str, str] = {}
    numbers = {"page": 1, "page_size": 20}
    seen: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in seen:
            return None
        seen.add(name)
        if name in numbers:
            if not NUMBER.fullmatch(value) or int(value) > LIMITS[name]:
                return None
            numbers[name] = int(value)
        elif name in CHOICES and value in CHOICES[name]:
            filters[name] = value
        else:
            return None
    return filters, numbers["page"], numbers["page_size"]


EXTENSION = "adflux_jobs_fast_path"


def install(app: Flask) -> None:
    """Put the fast path in front of the app (before ProxyFix wraps both, see app.create_app); it
    is also `app.extensions[EXTENSION]`, whose `inner` is the Flask app alone (for tests)."""
    fast_path = app.extensions[EXTENSION] = JobsFastPath(app, app.wsgi_app)
    app.wsgi_app = fast_path  # type: ignore[method-assign]
