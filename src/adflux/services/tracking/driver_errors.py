"""Errors of the driver's raw cursor (COPY) raised as SQLAlchemy's, so callers handle them as usual."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError


@contextmanager
def driver_errors(connection: Any, statement: str) -> Iterator[None]:
    """The driver's own errors, raised by a raw cursor (COPY), as SQLAlchemy's: a lost connection is
    an OperationalError the callers already handle (the batch goes back to the buffer), and the
    pool drops the connection instead of handing it out again."""
    import psycopg

    try:
        yield
    except psycopg.OperationalError as error:
        connection.invalidate()
        raise OperationalError(statement, None, error) from error
    except psycopg.IntegrityError as error:  # e.g. a unique key another process stored meanwhile
        raise IntegrityError(statement, None, error) from error
    except psycopg.Error as error:
        raise DBAPIError(statement, None, error) from error
