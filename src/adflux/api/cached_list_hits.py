"""Response-cache hits of the campaign, candidate and report lists, answered before Flask.

`GET /api/v1/campaigns`, `/api/v1/candidates` and `/api/v1/reports/performance` are
`@cached_read` views: an answer the route stored while the tables' version tokens were the same is
sent again. A hit needs no Flask, so the API's fast paths (`fast_path`) answer it: the same key
as `cached_read` builds — the route's endpoint, the query's sorted (name, value) pairs, the tokens
of the tables the route names (read by `data_versions.read_tokens`, as the route reads them), and
what the route's own `vary` function adds (the Bogotá day of a report) — and the same bytes and
headers (`fast_path` adds what the Flask hooks add). Endpoint, tables, `vary` and role are read off
the route itself, so the two cannot drift apart.

Everything else goes on to the Flask route, which answers (and stores) it as before: a miss, a
bypass (no tokens), what `vary` keeps out of the cache (a segment's candidates, a report by
campaign), a query string with anything but plain characters (so that `parse_qsl` reads exactly
what Werkzeug's `request.args` reads), and whatever `fast_path` leaves to the route.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy import Engine
from werkzeug.utils import get_content_type

from adflux.api import fast_path, response_cache
from adflux.api.auth import required_role
from adflux.extensions import db
from adflux.services import data_versions
from adflux.settings import Settings

PATHS = ("/api/v1/campaigns", "/api/v1/candidates", "/api/v1/reports/performance")
# name=value pairs joined by "&", of characters that read the same decoded or not (no %, no +).
_PLAIN = r"[A-Za-z0-9_.,:-]"
PLAIN_QUERY = re.compile(rf"(?:{_PLAIN}+={_PLAIN}*(?:&{_PLAIN}+={_PLAIN}*)*)?")


class CachedListHits:
    """One cached list's handler of the API's fast paths: its response-cache hits, nothing else."""

    def __init__(
        self,
        route: str,
        endpoint: str,
        role: str,
        spec: response_cache.CachedRead,
        cache: response_cache.ResponseCache,
        engine: Engine,
        settings: Settings,
    ) -> None:
        self.route = route
        self.endpoint = endpoint
        self.role = role
        self.names = spec.names
        self.vary = spec.vary
        self.cache = cache
        self.engine = engine
        self.settings = settings
        self.lookup = (endpoint, "hit")
        self._content_types: dict[str, str] = {}

    def find(self, query: str) -> fast_path.Found | None:
        if not PLAIN_QUERY.fullmatch(query):
            return None
        args: response_cache.QueryArgs = tuple(sorted(parse_qsl(query, keep_blank_values=True)))
        extra = () if self.vary is None else self.vary(args, self.settings)
        if extra is None:
            return None
        names = self.names
        tokens = data_versions.read_tokens(names, self.engine)
        if tokens is None or len(tokens) != len(names):  # the route counts the bypass
            return None
        key = response_cache.key_of(self.endpoint, args, tuple(tokens[name] for name in names), extra)
        entry = self.cache.get(key)
        if entry is None:  # the route counts the miss, answers and stores it
            return None
        return fast_path.Found(entry.body, entry.etag, self._content_type(entry.mimetype), self.lookup)

    def _content_type(self, mimetype: str) -> str:
        """The Content-Type header Flask sends for `mimetype` (`Response(body, mimetype=...)`)."""
        known = self._content_types.get(mimetype)
        if known is None:
            known = self._content_types[mimetype] = get_content_type(mimetype, "utf-8")
        return known

    def close(self) -> None:
        """Nothing of its own: the tokens are read on the app's pool."""


def _route_of(app: Flask, path: str) -> tuple[str, str, Any]:
    """(rule, endpoint, GET view method) of the route that answers `GET path`."""
    rule, _values = app.url_map.bind("localhost").match(path, "GET", return_rule=True)
    view: Any = app.view_functions[rule.endpoint]
    return rule.rule, rule.endpoint, view.view_class.get


def install(app: Flask) -> None:
    """Answer the lists' cache hits in the API's fast paths (with the response cache on)."""
    cache: response_cache.ResponseCache | None = app.extensions.get(response_cache.EXTENSION)
    if cache is None:
        return
    paths = fast_path.of(app)
    with app.app_context():
        engine = db.engine
    for path in PATHS:
        route, endpoint, method = _route_of(app, path)
        spec: response_cache.CachedRead | None = getattr(method, response_cache.SPEC_ATTR, None)
        if spec is None:
            raise RuntimeError(f"{path}: the route is not a @cached_read view")
        role = required_role(endpoint, "GET", app)
        paths.add(path, CachedListHits(route, endpoint, role, spec, cache, engine, paths.settings))
