"""Monthly partitions of metrics_daily on PostgreSQL: made before rows arrive, dropped for retention.

The raw fact table is partitioned by month (`PARTITION BY RANGE (date)`): a month's rows sit in
their own table, so dropping months past retention is a metadata change instead of a DELETE of
millions of rows, and reads of recent days touch recent partitions only. There is no default
partition (a row for a month without one would be an error, never silently misfiled), so every
writer calls `ensure_months` first. Elsewhere (SQLite) these are no-ops.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from adflux.extensions import db
from adflux.models import MetricDaily

logger = logging.getLogger(__name__)

TABLE = "metrics_daily"


def _partitioned() -> bool:
    return db.engine.dialect.name == "postgresql"


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


@event.listens_for(Session, "before_flush")
def _partitions_for_new_rows(session: Session, _context: object, _instances: object) -> None:
    """Rows added through the ORM (rare: the sync writes with COPY) get their months too."""
    days = {obj.date for obj in session.new if isinstance(obj, MetricDaily)}
    if days and session.get_bind().dialect.name == "postgresql":
        _ensure(session, days)


def ensure_months(days: Iterable[date]) -> list[str]:
    """Make the monthly partitions these days need (in the caller's transaction); their names."""
    if not _partitioned():
        return []
    return _ensure(db.session(), days)


def _ensure(session: Session, days: Iterable[date]) -> list[str]:
    months = sorted({month_start(d) for d in days})
    if not months:
        return []
    names = [partition_name(m) for m in months]
    connection = session.connection()  # not session.execute: this also runs inside a flush
    existing = set(
        connection.execute(
            text("SELECT c.relname FROM pg_class c WHERE c.relname = ANY(:names)"), {"names": names}
        ).scalars()
    )
    for month, name in zip(months, names, strict=True):
        if name in existing:
            continue
        try:
            with connection.begin_nested():  # a concurrent writer may make it first
                connection.execute(
                    text(
                        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
                        f"FOR VALUES FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
                    )
                )
        except DBAPIError as exc:
            if "already exists" not in str(exc.orig):
                raise
        logger.info("metrics partition %s ready", name)
    return names


def months() -> list[tuple[date, str]]:
    """The monthly partitions there are, oldest first: (first day, table name)."""
    if not _partitioned():
        return []
    rows = db.session.execute(
        text(
            "SELECT child.relname FROM pg_inherits i JOIN pg_class parent ON parent.oid = i.inhparent "
            "JOIN pg_class child ON child.oid = i.inhrelid WHERE parent.relname = :table"
        ),
        {"table": TABLE},
    ).scalars()
    found = []
    for name in rows:
        suffix = name.removeprefix(f"{TABLE}_y")
        if len(suffix) == 7 and suffix[4] == "m" and suffix.replace("m", "").isdigit():
            found.append((date(int(suffix[:4]), int(suffix[5:]), 1), name))
    return sorted(found)


def drop_months_before(cutoff: date) -> list[str]:
    """Drop the partitions whose whole month is before `cutoff` (retention); their names."""
    dropped = []
    for month, name in months():
        if next_month(month) <= cutoff:
            db.session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped
