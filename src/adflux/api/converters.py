"""URL converters that keep path parameters inside what the database can hold."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

# PostgreSQL INTEGER (and the ids AdFlux puts in URLs); SQLite fails on values past 2**63 - 1.
MAX_DATABASE_INT = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` limited to 0..2**31-1: a larger id cannot exist, so it is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DATABASE_INT)
        super().__init__(map, *args, **kwargs)
