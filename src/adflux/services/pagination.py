"""Page through a SELECT the way every list endpoint does: by page number, or after a cursor.

Totals are exact up to COUNT_CAP rows; beyond, PostgreSQL's planner estimate is given instead
(``total_estimated``), so a list of 10M candidates does not count 10M rows on every request.
Large lists (candidates, audit, tasks) also take a keyset cursor: ``next_cursor`` from one page
fetches the next with an index range scan, however deep, where OFFSET reads and skips every row
before the page.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    select,
    tuple_,
)
from sqlalchemy.types import Date, DateTime

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models.versions import DataVersion
from adflux.services import direct_reads, versioned_counts
from adflux.services.errors import ValidationFailed

T = TypeVar("T")
TOTAL_LABEL = "_page_total"
TOKEN_LABEL = "_page_data_version"
COUNT_CAP = 10_000
# A keyset list's page starting this many rows in or more is found by its keys first (`_seek`).
SEEK_FROM = 1_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int | None
    page_size: int
    total_estimated: bool = False
    next_cursor: str | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size)) if self.page_size else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "total_estimated": self.total_estimated,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "next_cursor": self.next_cursor,
        }


@dataclass(frozen=True)
class Keyset:
    """The order a cursor follows: columns that together are unique, all one direction."""

    columns: Sequence[Any]
    descending: bool = False

    def order(self) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this order: a row-value comparison, which PostgreSQL
        answers with one range scan of the matching index."""
        given = tuple_(*(literal(v, type_=c.type) for c, v in zip(self.columns, values, strict=True)))
        key = tuple_(*self.columns)
        return key < given if self.descending else key > given

    def from_(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows from ``values`` on in this order (that row included)."""
        given = tuple_(*(literal(v, type_=c.type) for c, v in zip(self.columns, values, strict=True)))
        key = tuple_(*self.columns)
        return key <= given if self.descending else key >= given

    def encode(self, row: Any) -> str:
        values = [getattr(row, c.key) for c in self.columns]
        text = json.dumps([v.isoformat() if isinstance(v, (date, datetime)) else v for v in values])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if not isinstance(raw, list) or len(raw) != len(self.columns):
                raise ValueError("wrong length")
            return [_typed(column, value) for column, value in zip(self.columns, raw, strict=True)]
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise ValidationFailed(
                _("This cursor is not one a list returned"), errors={"cursor": ["Use next_cursor as given."]}
            ) from None


def _typed(column: Any, value: Any) -> Any:
    kind = getattr(column.type, "impl", column.type)  # UTCDateTime decorates DateTime
    if isinstance(kind, DateTime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a cursor's times carry their zone")
        return moment
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if not isinstance(value, kind.python_type) or isinstance(value, bool):
        raise ValueError("not a key value of this list")
    return value


def paginate(
    stmt: Select[Any],
    *,
    page: int,
    page_size: int,
    as_dicts: bool = False,
    keyset: Keyset | None = None,
    cursor: str | None = None,
    version: str | None = None,
    counted_as: Hashable | None = None,
) -> Page[Any]:
    """Run `stmt` for one page, with the total, in one round trip.

    Items are the first column of each row (a select of one entity), or with `as_dicts` each
    row as a dict of its labelled columns. With a `keyset`, `stmt` is ordered by it and the page
    carries `next_cursor`; a `cursor` then replaces the page number.

    The (capped) total rides along as a scalar subquery, evaluated once per statement. Only a
    page past the end, which returns no row to carry it, needs a separate count. With `version`
    (the versioned table the list reads, and the only table its filters read: see
    `versioned_counts`), the count runs only when that table changed since this process last
    counted the same filters. `counted_as` names those filters (all the total depends on);
    without it they are keyed from the statement, which costs more CPU.
    """
    unordered = stmt.order_by(None)
    offset = 0 if cursor else (page - 1) * page_size
    if keyset is not None:
        stmt = unordered.order_by(*keyset.order())
        if cursor:
            stmt = stmt.where(keyset.after(keyset.decode(cursor)))
        elif offset >= SEEK_FROM:
            stmt, offset = _seek(stmt, unordered, keyset, offset), 0
    count = _count(unordered)
    versioned = _VersionedTotal(unordered, version, counted_as) if version and _capped() else None
    columns = versioned.columns(count) if versioned else [count.scalar_subquery().label(TOTAL_LABEL)]
    rows = db.session.execute(stmt.add_columns(*columns).limit(page_size).offset(offset)).all()
    items = [_without_total(row._asdict()) for row in rows] if as_dicts else [row[0] for row in rows]
    if versioned is not None and rows:
        total, estimated = versioned.total(rows[0], unordered)
    else:
        counted = int(rows[0][-1 - (versioned is not None)]) if rows else None
        total, estimated = _total(counted, count, unordered, first=page == 1 and not cursor)
    next_cursor = None
    if keyset is not None and len(rows) == page_size:
        next_cursor = keyset.encode(items[-1] if not as_dicts else _Row(items[-1]))
    return Page(
        items=items,
        total=total,
        page=None if cursor else page,
        page_size=page_size,
        total_estimated=estimated,
        next_cursor=next_cursor,
    )


def _seek(stmt: Select[Any], unordered: Select[Any], keyset: Keyset, offset: int) -> Select[Any]:
    """`stmt` from its row at `offset` on: that row's keys found by skipping keys only (an index-
    only scan where an index holds the keyset's columns), then the page read from there by the
    index, instead of OFFSET fetching and dropping every full row before the page."""
    keys = unordered.with_only_columns(*keyset.columns).order_by(*keyset.order()).offset(offset).limit(1)
    start = db.session.execute(keys).first()
    return stmt.where(keyset.from_(start) if start is not None else false())


def _total(
    counted: int | None, count: Select[Any], unordered: Select[Any], *, first: bool
) -> tuple[int, bool]:
    """The total the page's rows carried (None: no row; then a count of its own unless on the
    first page), with the planner's estimate past the cap."""
    if counted is None:
        counted = 0 if first else db.session.execute(count).scalar_one()
    if _capped() and counted > COUNT_CAP:
        return max(COUNT_CAP + 1, _estimate(unordered)), True
    return counted, False


class _VersionedTotal:
    """A list's total counted only when its table's data-version token moved (versioned_counts)."""

    def __init__(self, unordered: Select[Any], table: str, counted_as: Hashable | None) -> None:
        self.table = table
        self.key = (table, counted_as) if counted_as is not None else versioned_counts.key_of(unordered)
        self.known = versioned_counts.known(self.key) if self.key is not None else None

    def _token(self) -> Any:
        return select(DataVersion.token).where(DataVersion.name == self.table).scalar_subquery()

    def columns(self, count: Select[Any]) -> list[Any]:
        counted: Any = count.scalar_subquery()
        if self.known is not None:
            # The same token as when this process counted: PostgreSQL skips the count's sub-plan.
            counted = case((self._token() == self.known.token, null()), else_=counted)
        return [counted.label(TOTAL_LABEL), self._token().label(TOKEN_LABEL)]

    def total(self, row: Any, unordered: Select[Any]) -> tuple[int, bool]:
        counted, token = row[-2], row[-1]
        if counted is None and self.known is not None:
            return self.known.total, self.known.estimated
        total, estimated = _total(int(counted), select(), unordered, first=True)
        if token is not None and self.key is not None:
            versioned_counts.remember(self.key, token, total, estimated)
        return total, estimated


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _capped() -> bool:
    # SQLite (the embedded default) holds demo-sized data and has no planner estimate to give.
    return db.engine.dialect.name == "postgresql"


def _count(unordered: Select[Any]) -> Select[Any]:
    source = unordered.limit(COUNT_CAP + 1) if _capped() else unordered
    return select(func.count()).select_from(source.subquery())


def _estimate(unordered: Select[Any]) -> int:
    """The planner's row estimate for the list's query (PostgreSQL), without running it."""
    compiled = unordered.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    return int(plan.scalar_one()[0]["Plan"]["Plan Rows"])


def _without_total(row: dict[str, Any]) -> dict[str, Any]:
    del row[TOTAL_LABEL]
    row.pop(TOKEN_LABEL, None)
    return row


@dataclass(frozen=True)
class PreparedPage:
    """A list's page statement built once (its values as bind parameters): see `prepare_page`."""

    page: Select[Any]
    count: Select[Any]
    unordered: Select[Any]
    version: str | None = None


def prepare_page(
    stmt: Select[Any],
    *,
    version: str | None = None,
    after: ColumnElement[bool] | None = None,
    count_rows: Select[Any] | None = None,
) -> PreparedPage:
    """`stmt` (ordered, its filter values as named bind parameters) with its capped total riding
    along and LIMIT/OFFSET as parameters, for `paginate_prepared`. Build it once per shape: the
    statement is then compiled once and run as a prepared statement (`direct_reads`).

    With `version` (a versioned table, as for `paginate`), the total is counted only when the
    table's token is not the one passed as `known_token` (NULL: count), and the token rides along.
    `after` (a keyset cursor's condition) starts the page but not the total. `count_rows`: a
    narrower statement with the same rows to count (e.g. without joins that match one row each).
    """
    unordered = stmt.order_by(None)
    count = _count(count_rows if count_rows is not None else unordered)
    counted: Any = count.scalar_subquery()
    columns = [counted.label(TOTAL_LABEL)]
    if version is not None and _capped():
        token = select(DataVersion.token).where(DataVersion.name == version).scalar_subquery()
        known = bindparam("known_token", type_=DataVersion.token.type)
        columns = [case((token == known, null()), else_=counted).label(TOTAL_LABEL), token.label(TOKEN_LABEL)]
    else:
        version = None
    if after is not None:
        stmt = stmt.where(after)
    page = (
        stmt.add_columns(*columns)
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
    )
    return PreparedPage(page=page, count=count, unordered=unordered, version=version)


def paginate_prepared(
    prepared: PreparedPage,
    values: dict[str, Any],
    *,
    page: int,
    page_size: int,
    counted_as: Hashable | None = None,
    after_cursor: bool = False,
) -> Page[dict[str, Any]]:
    """One page of a prepared list as dicts of its labelled columns, with its total: what
    `paginate(..., as_dicts=True)` returns for the same statement, in one round trip.
    `counted_as` names the filters the total depends on (a versioned list: see `paginate`);
    `after_cursor`: the statement's own condition starts the page (no offset)."""
    key = (prepared.version, counted_as) if prepared.version is not None else None
    known = versioned_counts.known(key) if key is not None else None
    first = page == 1 and not after_cursor
    params = {**values, "page_limit": page_size, "page_offset": 0 if after_cursor else (page - 1) * page_size}
    if key is not None:
        params["known_token"] = known.token if known is not None else None
    keys, rows = direct_reads.rows(prepared.page, params)
    extra = 2 if key is not None else 1
    width = len(keys) - extra
    items = [dict(zip(keys[:width], row[:width], strict=True)) for row in rows]
    counted = rows[0][width] if rows else None
    if rows and counted is None and known is not None:
        return Page(items, known.total, page, page_size, total_estimated=known.estimated)
    if counted is None and not first:
        counted = direct_reads.rows(prepared.count, values)[1][0][0]
    total, estimated = int(counted or 0), False
    if _capped() and total > COUNT_CAP:
        total, estimated = max(COUNT_CAP + 1, _estimate(prepared.unordered.params(**values))), True
    if rows and key is not None and rows[0][width + 1] is not None:
        versioned_counts.remember(key, rows[0][width + 1], total, estimated)
    return Page(items=items, total=total, page=page, page_size=page_size, total_estimated=estimated)
