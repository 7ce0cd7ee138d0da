"""Read-only views without a transaction: two database round trips fewer per request (API lists
and reports, and dashboard pages that only read: there `@reads_only` goes above `login_required`,
so that the signed-in user is read on the autocommit connection too).

A view that only reads needs no BEGIN before its first query and no ROLLBACK at the end of the
request. `@reads_only` runs the view's queries on a connection in autocommit mode, so psycopg
sends neither. Each statement still sees everything committed before it started, which is what
it saw inside a READ COMMITTED transaction too (PostgreSQL's default and AdFlux's), so a page and
its total read exactly as before. The connection goes back to the pool with its usual isolation
level (SQLAlchemy resets it on check-in).

Only for views that never write: a write in autocommit mode is committed statement by statement.
When the request already has a transaction (a token looked up in the database for this request,
say), the view simply runs inside it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from adflux.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def begin_reads_only() -> None:
    """Give this request's session an autocommit connection, unless it is already in a transaction."""
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options=AUTOCOMMIT)


def reads_only(view: F) -> F:
    """Decorate a view method that only reads (put it closest to the function)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begin_reads_only()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
