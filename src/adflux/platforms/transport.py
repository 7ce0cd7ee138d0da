"""One httpx transport for all five platforms: timeouts, retries with hints, rate limiting.

Each adapter supplies a ``classify`` function that turns a response into ``None`` (success) or
one of the error classes in :mod:`adflux.platforms.errors`; the transport decides whether and
how long to wait before trying again.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

import httpx

from adflux.platforms.errors import (
    AmbiguousOutcomeError,
    PlatformError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.instrumentation import API_CALLS, API_ERRORS, THROTTLES
from adflux.platforms.ratelimit import Limiter

logger = logging.getLogger(__name__)

Classifier = Callable[[httpx.Response, float], PlatformError | None]
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by every transport's client.

    httpx builds a new context for each client, and loading the CA bundle costs ~50 ms of CPU:
    more than everything else in publishing one campaign tree when each task builds an adapter.
    """
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry."""

    max_attempts: int = 5
    base_delay: float = 0.5  # first backoff, doubled on each attempt
    max_delay: float = 30.0  # backoff never grows beyond this
    # Longest single wait we accept; a platform hint beyond it is raised to the caller instead
    # (a Celery task can reschedule itself rather than hold a worker for minutes).
    max_wait: float = 120.0
    jitter: float = 0.2  # +/- fraction applied to computed backoff (not to platform hints)


@dataclass
class TransportConfig:
    """Knobs shared by every transport; tests inject ``sleep`` and ``clock``."""

    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(30.0, connect=5.0))
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time  # wall clock, for epoch-based hints (X reset)
    rng: random.Random = field(default_factory=random.Random)
    # Optional ready-made client (e.g. shared connection pool); the transport won't close it.
    client: httpx.Client | None = None


class Transport:
    """Send requests to one platform account with retries, throttling and metrics."""

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        classify: Classifier,
        config: TransportConfig | None = None,
        limiter: Limiter | None = None,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.classify = classify
        self.config = config or TransportConfig()
        self.limiter = limiter
        self._owns_client = self.config.client is None
        # Never follow redirects: a 3xx from (or pretending to be) a platform must not carry the
        # account's credentials to another host. Also passed per request, for injected clients.
        self.client = self.config.client or httpx.Client(
            timeout=self.config.timeout, verify=shared_ssl_context(), follow_redirects=False
        )
        self.headers = dict(headers or {})
        self.auth = auth
        self.waits: list[float] = []  # every backoff we slept, newest last (for health/tests)
        self.last_response: httpx.Response | None = None

    def close(self) -> None:
        """Close the connection pool if we created it."""
        if self._owns_client:
            self.client.close()

    def url(self, path: str) -> str:
        """Absolute URL for a path under the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        auth: httpx.Auth | bool | None = True,
        classify: Classifier | None = None,
    ) -> httpx.Response:
        """Send one logical call, retrying what is safe to retry; raise a PlatformError otherwise.

        ``idempotent`` defaults from the method. A non-idempotent call whose response is lost
        raises :class:`AmbiguousOutcomeError` at once: only the adapter knows how to check
        whether the platform already acted.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        request_auth = self.auth if auth is True else (auth or None)
        send = partial(
            self.client.request,
            method,
            self.url(path),
            params=params,
            data=data,
            json=json,
            content=content,
            files=files,
            headers={**self.headers, **(headers or {})},
            auth=request_auth if request_auth is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=False,
        )
        classifier = classify or self.classify
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(send, operation, classifier)
            if isinstance(outcome, httpx.Response):
                return outcome
            wait = self._wait_after(outcome, attempt, operation, idempotent)
            self.waits.append(wait)
            self.config.sleep(wait)

    def _attempt(
        self, send: Callable[[], httpx.Response], operation: str, classifier: Classifier
    ) -> httpx.Response | PlatformError:
        """Send once (after the limiter allows it): the response, or the error it amounts to."""
        if self.limiter is not None:
            self.limiter.acquire()
        API_CALLS.labels(self.platform, operation).inc()
        try:
            response = send()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached the platform: always safe to retry.
            return RetryableError(f"could not connect: {exc}", platform=self.platform)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            return AmbiguousOutcomeError(
                f"no response to {operation}: {exc.__class__.__name__}", platform=self.platform
            )
        self.last_response = response
        classified = classifier(response, self.config.clock())
        return response if classified is None else classified

    def _wait_after(self, error: PlatformError, attempt: int, operation: str, idempotent: bool) -> float:
        """Count a failure and return how long to wait before retrying, or raise it."""
        API_ERRORS.labels(self.platform, error.error_class).inc()
        if isinstance(error, ThrottledError):
            THROTTLES.labels(self.platform).inc()
        wait = self._next_wait(error, attempt)
        if wait is None or (isinstance(error, AmbiguousOutcomeError) and not idempotent):
            raise error
        logger.warning(
            "%s %s failed (%s), retry %d/%d in %.2fs",
            self.platform,
            operation,
            error.error_class,
            attempt,
            self.config.retry.max_attempts - 1,
            wait,
        )
        if isinstance(error, ThrottledError) and self.limiter is not None:
            # Hold the whole account, not just this call: other threads would hit the wall too.
            self.limiter.pause(wait)
        return wait

    def _next_wait(self, error: PlatformError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        policy = self.config.retry
        if not isinstance(error, RetryableError) or attempt >= policy.max_attempts:
            return None
        if error.retry_after is not None:
            # The platform's own hint is honoured exactly (no jitter: it already knows when).
            wait = max(0.0, error.retry_after)
        else:
            backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
            wait = backoff * (1 + self.config.rng.uniform(-policy.jitter, policy.jitter))
        if wait > policy.max_wait:
            error.retry_after = wait
            return None
        return wait
