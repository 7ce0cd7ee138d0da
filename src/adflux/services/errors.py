"""Domain errors raised by services; the API and CLI turn them into one error shape."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: an error a caller can understand and act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthorized"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
