"""Accent- and case-blind comparison inside the database: ``folded(column)``.

"Bogotá", "BOGOTA" and "bogota" fold to the same text, so a search typed without accents finds
what was stored with them. On PostgreSQL the fold is ``lower(translate(...))`` (no extension
needed, immutable, so it can be indexed); on SQLite it is a Python function registered on every
new connection.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

_ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
_PLAIN = "aaaaaeeeeiiiiooooouuuuncAAAAAEEEEIIIIOOOOOUUUUNC"
SQLITE_FUNCTION = "adflux_fold"


def fold(text: str) -> str:
    """Lower case without accents: what ``folded()`` computes in the database."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower()


class folded(FunctionElement[str]):
    """``folded(expr)``: the accent- and case-blind form of a text expression."""

    type = String()
    inherit_cache = True
    name = "folded"


def folded_sql(expression: str) -> str:
    """The PostgreSQL text of ``folded(expression)``, for DDL (triggers, functions)."""
    return f"lower(translate({expression}, '{_ACCENTED}', '{_PLAIN}'))"


@compiles(folded, "postgresql")
def _folded_postgresql(element: folded, compiler: Any, **kw: Any) -> str:
    return folded_sql(compiler.process(element.clauses, **kw))


@compiles(folded)
def _folded_default(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


def _sqlite_fold(value: object) -> str | None:
    return None if value is None else fold(str(value))


@event.listens_for(Engine, "connect")
def _register_sqlite_fold(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(SQLITE_FUNCTION, 1, _sqlite_fold, deterministic=True)
