"""JSON answers (`jsonify`, every API response) encoded by orjson: the same bytes, a fraction of the CPU.

Flask's default provider encodes with the standard library (sorted keys, compact separators, UTF-8
text rather than `\\u` escapes, then a newline). orjson writes the same text for everything an
AdFlux answer holds — strings (control characters escaped the same way), integers, floats (the
shortest repr; only exponents below 1e-4 are spelled differently, `5e-05` → `0.00005`, the same
number), booleans, null, lists and string-keyed dicts sorted by key — at a fraction of the CPU:
the campaign list's 31.5 KB took ~330 µs in `json.dumps` (bench/README.md, issue 25 item 4).

Dates, datetimes and dataclasses are handed to Flask's own `default` (http-date strings, as
before), not orjson's ISO text. Anything orjson refuses (integers past 64 bits, non-string keys,
lone surrogates) and every non-compact answer (debug mode, `compact = False`) or an ASCII-only
setting goes through Flask's provider unchanged, so no answer is lost or changed in meaning.
`dumps`/`loads` (templates' `tojson`, request bodies) stay the standard library's.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

# Flask's text, a newline at the end; datetime and dataclasses through Flask's `default`.
_BASE_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with `response` (what `jsonify` calls) encoded by orjson."""

    ensure_ascii = False  # UTF-8 text, not \u escapes for every "á" and "ñ" of Spanish text

    def response(self, *args: Any, **kwargs: Any) -> Response:
        pretty = self.compact is False or (self.compact is None and self._app.debug)
        if pretty or self.ensure_ascii:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        options = _BASE_OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else _BASE_OPTIONS
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except orjson.JSONEncodeError:  # what only the standard library writes (or refuses the same way)
            return super().response(*args, **kwargs)
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]


def init_app(app: Flask) -> None:
    """Answer JSON through orjson (call before anything builds a response)."""
    app.json = OrjsonProvider(app)
