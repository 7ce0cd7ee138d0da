"""Refuse input no AdFlux field can hold before it reaches a view.

JSON bodies larger than ADFLUX_MAX_JSON_BYTES (413) or nested deeper than ADFLUX_MAX_JSON_DEPTH
(400) are refused before anything parses them: Python's parser (and every recursive walk after
it) fails with a RecursionError around 1,000 levels, which used to be a 500, and a large body
held a web worker while it was parsed. The depth is measured on the raw bytes, outside strings.

PostgreSQL text cannot contain NUL characters: a NUL anywhere in a string used to turn into a
database error (a 500) instead of a validation error. No AdFlux field accepts one, so every API
request carrying one in its path, query, form fields or JSON body is refused up front.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from adflux.error_responses import error_response
from adflux.settings import current_settings

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


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_DELTA = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes, limit: int) -> int:
    """How deep `body` (JSON text) nests, counting only up to `limit` + 1 (enough to refuse it)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return limit  # cannot be deeper than it has openings: no need to walk it
    depth = deepest = 0
    for byte in brackets:
        depth += _DELTA[byte]
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def limit_json_bodies() -> Response | None:
    """before_request: 413 for a JSON body over the size limit, 400 for one nested too deep."""
    if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    settings = current_settings()
    if (request.content_length or 0) > settings.max_json_bytes:
        return error_response(
            413,
            f"JSON bodies are limited to {settings.max_json_bytes} bytes",
            errors={"_schema": ["Too large."]},
        )
    body = request.get_data(cache=True)
    if len(body) > settings.max_json_bytes:  # sent without a Content-Length (chunked)
        return error_response(
            413,
            f"JSON bodies are limited to {settings.max_json_bytes} bytes",
            errors={"_schema": ["Too large."]},
        )
    if json_depth(body, settings.max_json_depth) > settings.max_json_depth:
        return error_response(
            400,
            f"JSON nested deeper than {settings.max_json_depth} levels is not accepted",
            errors={"_schema": ["Nested too deeply."]},
        )
    return None


def init_app(app: Flask) -> None:
    """Install the guards: body limits first, so nothing parses a body they refuse."""
    app.before_request(limit_json_bodies)
    app.before_request(reject_nul_characters)
