"""Pages of a performance report: the cursor after a page's last row, and the condition it sets.

A report is sorted by its dimensions (campaign first, then group_by order), and each row is one
combination of their values, so the last row's values say where the next page starts: a keyset
cursor. The cursor is those values as URL-safe base64 JSON; `decode` checks them against the
dimensions asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, tuple_

from adflux.catalogue import gettext as _
from adflux.services.errors import ValidationFailed


def sort_order(dims: Sequence[str]) -> list[str]:
    """The order rows come in: campaign first (the rollups' keys start with it), then the other
    dimensions as asked."""
    return sorted(dims, key=lambda d: d != "campaign")


def encode(row: dict[str, Any], dims: Sequence[str]) -> str:
    """The cursor after `row` (the broad audience's segment None is key 0)."""
    values = [_key(d, row[d]) for d in dims]
    text = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _key(dim: str, value: Any) -> Any:
    return (value or 0) if dim == "segment" else value


def decode(cursor: str, dims: Sequence[str]) -> dict[str, Any]:
    """The bound parameters `after_0`, `after_1`, ... of a cursor for these dimensions."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(dims):
            raise ValueError("wrong length")
        return {
            f"after_{n}": _typed(dim, value) for n, (dim, value) in enumerate(zip(dims, raw, strict=True))
        }
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            _("This cursor is not one a list returned"), errors={"cursor": ["Use next_cursor as given."]}
        ) from None


def _typed(dim: str, value: Any) -> Any:
    if dim == "day":
        return date.fromisoformat(value)
    wanted: type = int if dim in ("campaign", "segment") else str
    if not isinstance(value, wanted) or isinstance(value, bool):
        raise ValueError("not a key value of this report")
    return value


def after(keys: Sequence[Any], types: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after the cursor's values in the report's order. The row-value comparison is paired
    with `first key >= its value`, which PostgreSQL can start an index range scan at (a row value
    is only an index bound when its columns lead the index, which the rollups' keys need not)."""
    given = [bindparam(f"after_{n}", type_=kind) for n, kind in enumerate(types)]
    if len(keys) == 1:
        return keys[0] > given[0]
    return and_(keys[0] >= given[0], tuple_(*keys) > tuple_(*given))
