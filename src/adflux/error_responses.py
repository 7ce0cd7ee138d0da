"""The one JSON error body of every face that speaks HTTP: {"code", "message", "errors"}.

The API answers with it always, the dashboard when a caller asks for JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}


def error_response(status: int, message: str, *, code: str | None = None, errors: Any = None) -> Response:
    """Build the standard error body with `status`."""
    response = jsonify(
        {"code": code or _CODES.get(status, "error"), "message": message, "errors": errors or {}}
    )
    response.status_code = status
    return response


def wants_json() -> bool:
    """API paths always answer JSON; elsewhere follow the Accept header (the dashboard wants HTML)."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )
