"""List totals kept per process while their table's data-version token is unchanged.

A list over a versioned table (see `adflux.models.versions`) asks PostgreSQL for its page, the
table's token and — only when the token is not the one this process last counted under for the
same filters — the total, all in one statement: `CASE WHEN token = :known THEN NULL ELSE (SELECT
count(*) ...) END`. PostgreSQL evaluates the count's sub-plan only when the ELSE branch is
taken, so a list whose table has not changed skips counting its rows (5,000 job openings: ~1 ms
of PostgreSQL CPU per request).

The total is exact all the same: the token changes in the same transaction as every write to
the table (a statement-level trigger), and the page, the token and a fresh count are read by
one statement, in one snapshot. Equal tokens mean the table holds the same rows, so the same
filters count the same total. A process that never saw a token counts, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, NamedTuple

from sqlalchemy import Select

MAX_ENTRIES = 256


class Known(NamedTuple):
    token: str
    total: int
    estimated: bool


_known: OrderedDict[Hashable, Known] = OrderedDict()
_lock = threading.Lock()


def key_of(unordered: Select[Any]) -> Hashable | None:
    """What decides a list's total: the statement's shape and its bound values (None: unknown)."""
    cache_key = unordered._generate_cache_key()
    if cache_key is None:  # a construct SQLAlchemy cannot key: count every time
        return None
    try:
        values = tuple(_hashable(bind.effective_value) for bind in cache_key.bindparams)
        hash(values)
    except TypeError:
        return None
    return cache_key.key, values


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


def known(key: Hashable) -> Known | None:
    with _lock:
        return _known.get(key)


def remember(key: Hashable, token: str, total: int, estimated: bool) -> None:
    with _lock:
        _known[key] = Known(token, total, estimated)
        _known.move_to_end(key)
        while len(_known) > MAX_ENTRIES:
            _known.popitem(last=False)


def forget_all() -> None:
    with _lock:
        _known.clear()
