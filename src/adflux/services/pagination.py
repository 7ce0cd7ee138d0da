"""Page through a SELECT with a total, the way every list endpoint does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from adflux.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
        }


def paginate(stmt: Select[Any], *, page: int, page_size: int, scalars: bool = True) -> Page[Any]:
    """Run `stmt` for one page and count the whole result.

    The COUNT runs only when the page cannot tell the total: a page that is neither full nor
    past the end is the last one, so the total is the rows before it plus its own.
    """
    offset = (page - 1) * page_size
    result = db.session.execute(stmt.limit(page_size).offset(offset))
    items = list(result.scalars()) if scalars else [row._mapping for row in result]
    if 0 < len(items) < page_size or (page == 1 and not items):
        total = offset + len(items)
    else:
        total = db.session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        ).scalar_one()
    return Page(items=items, total=total, page=page, page_size=page_size)
