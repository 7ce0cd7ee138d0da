"""One JSON error shape for every API error: {"code", "message", "errors"}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.exc import OperationalError as DatabaseUnavailable
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, ServiceUnavailable

from adflux.catalogue import gettext as _
from adflux.error_responses import error_response, wants_json
from adflux.schemas.messages import said
from adflux.services.errors import DomainError

logger = logging.getLogger(__name__)


def _validation_messages(error: HTTPException) -> Any:
    # webargs puts {"messages": {location: {field: [msg]}}} on the exception.
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if isinstance(messages, dict) and len(messages) == 1:
        return said(next(iter(messages.values())))
    return said(messages)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers; they replace flask-smorest's so every error has the same shape."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        return error_response(error.status, error.message, code=error.code, errors=error.errors)

    @app.errorhandler(DatabaseUnavailable)
    def handle_database_unavailable(error: DatabaseUnavailable) -> Any:
        # The database restarted or is unreachable: a retryable condition, not a bug. The next
        # request reconnects (socket check on checkout) and creates are idempotent by external_ref, so the
        # client is told to retry instead of getting a bare 500.
        reason = str(error.orig).strip().splitlines()[0][:200] if error.orig else type(error).__name__
        logger.error("Database unavailable on %s %s: %s", request.method, request.path, reason)
        if not wants_json():
            return ServiceUnavailable()
        response = error_response(503, _("The database is unavailable; try again shortly"))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Any:
        if not wants_json():
            return error
        status = error.code or 500
        if status >= 500:
            logger.error("HTTP %s on %s %s", status, request.method, request.path)
        message = error.description or "Error"
        data = getattr(error, "data", None) or {}
        if data.get("message"):
            message = data["message"]
        errors = _validation_messages(error) if status in (400, 422) else None
        if status == 422 and errors:
            message = _("The request is invalid; see errors for each field.")
        response = error_response(status, message, errors=errors)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Any:
        # Logged once with its stack trace, never shown to the client.
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return InternalServerError()
        return error_response(500, _("Internal server error"), code="internal_error")
