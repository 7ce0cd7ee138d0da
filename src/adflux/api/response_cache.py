"""Answers of read endpoints served again while the data under them is unchanged.

`@cached_read("job_openings")` on a view method: before running the view, one primary-key
lookup reads the tables' version tokens (kept by database triggers, see
`adflux.models.versions`). If this process answered the same endpoint with the same query
string while the tokens were the same, it sends those bytes again; otherwise it runs the view and
keeps a successful answer. A write anywhere — this process, another worker, the CLI, an import,
a restore — changes a token, so an answer is never older than the data it was built from: the
tokens are read before the view's own queries, and every write that committed before that read
is in what the view reads after it.

The answer carries a strong ETag made of the tokens and the request, and a request whose
`If-None-Match` names it gets a 304 without a body. The cache sits inside authentication (the
caller's role is checked on every request) and outside argument parsing (a hit needs none: only
a query string that was valid and answered 200 before is ever stored). The answer must not
depend on who asks; the job list does not.

Each process keeps at most `ADFLUX_RESPONSE_CACHE_ENTRIES` answers (least recently used go
first; 0 turns the cache off) and none larger than `MAX_ENTRY_BYTES`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.http import parse_etags

from adflux.monitoring.prometheus import RESPONSE_CACHE_LOOKUPS
from adflux.services import data_versions
from adflux.settings import Settings, current_settings

F = TypeVar("F", bound=Callable[..., Any])
# A query string's (name, value) pairs, sorted: part of the key, and what `vary` is given.
QueryArgs = tuple[tuple[str, str], ...]
# Given the pairs and the app's settings (no request, no app context: see `cached_read`).
Vary = Callable[[QueryArgs, Settings], tuple[Any, ...] | None]

EXTENSION = "adflux_response_cache"
MAX_ENTRY_BYTES = 1024 * 1024
# Conditional GETs must revalidate every time; only the client itself may keep a copy.
CACHE_CONTROL = "private, no-cache"


class Entry(NamedTuple):
    body: bytes
    mimetype: str
    etag: str


class ResponseCache:
    """A thread-safe LRU of answers, by (endpoint, query string, tokens)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...]) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[Any, ...], entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class CachedRead(NamedTuple):
    """What `cached_read` was given, kept on the view (`SPEC_ATTR`) for the fast paths (api/fast_path)."""

    names: tuple[str, ...]  # the tables whose tokens are in the key, sorted
    vary: Vary | None


SPEC_ATTR = "_adflux_cached_read"


def init_app(app: Flask, max_entries: int) -> None:
    """Give `app` a cache of `max_entries` answers per process (0: none, views run every time)."""
    if max_entries > 0:
        app.extensions[EXTENSION] = ResponseCache(max_entries)


def cached_read(*tables: str, vary: Vary | None = None) -> Callable[[F], F]:
    """Serve the decorated read view's answers again while `tables` are unchanged (module doc).

    `vary`, called per request with the query's sorted (name, value) pairs and the app's
    settings before anything is read: the rest of the key, or None to run the view without the
    cache (its answer depends on something the tokens do not cover). The cache-hit fast path
    (api/cached_list_hits) calls it the same way, outside any Flask context: it reads nothing else.
    """
    unknown = set(tables) - set(data_versions.VERSIONED_TABLES)
    if not tables or unknown:
        raise ValueError(f"cached_read needs versioned tables; not versioned: {sorted(unknown)}")
    names = tuple(sorted(tables))

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache: ResponseCache | None = current_app.extensions.get(EXTENSION)
            if cache is None:
                return view(*args, **kwargs)
            pairs: QueryArgs = tuple(sorted(request.args.items(multi=True)))
            extra = () if vary is None else vary(pairs, current_settings())
            if extra is None:
                return view(*args, **kwargs)
            tokens = data_versions.read_tokens(names)
            if tokens is None or len(tokens) != len(names):  # unreadable, or emptied since
                RESPONSE_CACHE_LOOKUPS.labels(request.endpoint, "bypass").inc()
                return view(*args, **kwargs)
            key = key_of(request.endpoint, pairs, tuple(tokens[name] for name in names), extra)
            entry = cache.get(key)
            if entry is None:
                RESPONSE_CACHE_LOOKUPS.labels(request.endpoint, "miss").inc()
                response = view(*args, **kwargs)
                if not isinstance(response, Response) or response.status_code != 200:
                    return response
                if response.is_streamed or response.direct_passthrough:
                    return response
                body = response.get_data()
                entry = Entry(body, response.mimetype or "application/json", etag_of(key))
                if len(body) <= MAX_ENTRY_BYTES:
                    cache.put(key, entry)
            else:
                RESPONSE_CACHE_LOOKUPS.labels(request.endpoint, "hit").inc()
            return _answer(entry)

        setattr(wrapper, SPEC_ATTR, CachedRead(names, vary))  # outer decorators copy it (`wraps`)
        return wrapper  # type: ignore[return-value]

    return decorator


def key_of(
    endpoint: str | None, args: QueryArgs, tokens: tuple[str, ...], extra: tuple[Any, ...]
) -> tuple[Any, ...]:
    """The key an answer is kept under: what `cached_read` and the fast paths both look up."""
    return (endpoint, args, tokens, *extra)


def etag_of(key: tuple[Any, ...]) -> str:
    """The ETag of the answer kept under `key` (the job list's fast path makes the same)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag`, compared as `_answer` compares it."""
    return parse_etags(if_none_match).contains_weak(etag)


def _answer(entry: Entry) -> Response:
    # If-None-Match compares weakly (RFC 9110 13.1.2); "*" matches any current answer.
    if request.if_none_match.contains_weak(entry.etag):
        response = Response(status=304)
    else:
        response = Response(entry.body, mimetype=entry.mimetype)
    response.set_etag(entry.etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
