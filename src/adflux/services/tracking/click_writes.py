"""Buffered clicks written to the database in one statement per batch.

On PostgreSQL a batch is copied (COPY) into a session's temporary staging table and moved with one
`INSERT … SELECT … ON CONFLICT (click_id) DO NOTHING`: a batch given back after a failure and taken
again adds nothing twice, and the worker spends a few microseconds per click instead of an ORM
insert's tens (the flusher runs in the same processes as the redirect). Elsewhere: the ORM insert
of the clicks not stored yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from adflux.extensions import db
from adflux.models import Click
from adflux.services.tracking.copy_text import copy_text
from adflux.services.tracking.driver_errors import driver_errors

_COLUMNS = (
    *("click_id", "link_code", "campaign_id", "platform", "ad_group_id", "segment_id", "creative_id"),
    *("platform_click_param", "platform_click_id", "visitor_hash", "at"),
)
_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS click_staging (
    click_id varchar(32), link_code varchar(16), campaign_id integer, platform varchar(20),
    ad_group_id integer, segment_id integer, creative_id integer, platform_click_param varchar(10),
    platform_click_id varchar(255), visitor_hash varchar(64), at timestamptz
) ON COMMIT DELETE ROWS
"""
_MOVE = (
    f"INSERT INTO clicks ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM click_staging"
    " ON CONFLICT (click_id) DO NOTHING"
)


def write(rows: list[dict[str, Any]]) -> int:
    """Insert buffered click rows (`at` in ISO 8601) not stored yet; how many were new. The caller
    commits."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return _write_orm(rows)
    with driver_errors(connection, "COPY click_staging"):
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(_STAGING)
        with cursor.copy(f"COPY click_staging ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            copy.write(copy_text([row.get(name) for name in _COLUMNS] for row in rows))
        cursor.execute(_MOVE)
        return int(cursor.rowcount)


def _write_orm(rows: list[dict[str, Any]]) -> int:
    rows = [{**row, "at": datetime.fromisoformat(row["at"])} for row in rows]
    ids = [row["click_id"] for row in rows]
    known = set(db.session.scalars(select(Click.click_id).where(Click.click_id.in_(ids))))
    fresh = [row for row in rows if row["click_id"] not in known]  # a retried batch adds nothing twice
    if fresh:
        db.session.execute(insert(Click), fresh)
    return len(fresh)
