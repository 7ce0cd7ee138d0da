"""Refuse input no AdFlux field can hold before it reaches a view.

PostgreSQL text cannot contain NUL characters: a NUL anywhere in a string used to turn into a
database error (a 500) instead of a validation error. No AdFlux field accepts one, so every API
request carrying one in its path, query, form fields or JSON body is refused up front.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from adflux.error_responses import error_response

NUL = "\x00"
_MESSAGE = "NUL characters are not allowed"


def contains_nul(value: Any, _depth: int = 0) -> bool:
    """True if `value` (a JSON-like structure) has a NUL in any string, key included."""
    if isinstance(value, str):
        return NUL in value
    if _depth > 64:  # deeper than any AdFlux schema: let validation refuse it
        return False
    if isinstance(value, dict):
        return any(contains_nul(k, _depth + 1) or contains_nul(v, _depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v, _depth + 1) for v in value)
    return False


def _refuse(name: str = "_schema") -> Response:
    # The same shape as marshmallow's errors: {field: [message]}, "_schema" for the whole body.
    return error_response(
        422, "The request is invalid; see errors for each field.", errors={name: [_MESSAGE]}
    )


def reject_nul_characters() -> Response | None:
    """before_request for /api/: 404 for a NUL in the path, 422 for one in the query or body."""
    if not request.path.startswith("/api/"):
        return None
    if NUL in request.path or contains_nul(list((request.view_args or {}).values())):
        return error_response(404, "Not found")
    for key, value in request.args.items(multi=True):
        if NUL in key or NUL in value:
            return _refuse(key.replace(NUL, "") or "_schema")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if NUL in key or NUL in value:
                return _refuse(key.replace(NUL, "") or "_schema")
    elif request.is_json and contains_nul(request.get_json(silent=True)):
        return _refuse()
    return None


def init_app(app: Flask) -> None:
    """Install the guard."""
    app.before_request(reject_nul_characters)
