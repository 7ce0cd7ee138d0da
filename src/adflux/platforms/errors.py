"""The four error classes every platform failure is sorted into."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Base class: a call to an ad platform failed."""

    error_class = "fatal"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        status_code: int | None = None,
        code: str | int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.status_code = status_code
        self.code = code
        self.details = details

    def __str__(self) -> str:
        prefix = f"{self.platform}: " if self.platform else ""
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{prefix}{self.message}{code}"


class RetryableError(PlatformError):
    """A transient failure: the same call may succeed later."""

    error_class = "retryable"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # Seconds the platform asked us to wait, when it said so.
        self.retry_after = retry_after


class ThrottledError(RetryableError):
    """The platform is rate limiting us; ``retry_after`` holds its hint when it gave one."""

    error_class = "throttled"


class AmbiguousOutcomeError(RetryableError):
    """The request was sent but no answer came back: the platform may or may not have acted.

    Never retried blindly for creates; adapters look the object up by name first.
    """

    error_class = "ambiguous"


class AuthError(PlatformError):
    """The access token is expired, revoked or missing: a person must reconnect the account."""

    error_class = "auth"


class PlatformValidationError(PlatformError):
    """The platform rejected the request's content; ``message`` is the platform's own text."""

    error_class = "validation"


class FatalError(PlatformError):
    """Anything else that retrying will not fix (permissions, unknown objects, bad config)."""

    error_class = "fatal"
