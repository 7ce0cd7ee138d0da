"""Buffered clicks written with COPY + INSERT … ON CONFLICT: a batch taken twice is stored once, and
a connection lost in the middle is the OperationalError the flusher answers by giving the batch back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from adflux.extensions import db
from adflux.models import Click
from adflux.services.tracking import click_writes, clicks


def _rows(code: str, count: int) -> list[dict[str, Any]]:
    target = clicks._target(code)
    made = [clicks.click_row(target, {"ttclid": f"T{n}"}, "v" * 64, datetime.now(UTC)) for n in range(count)]
    return [{**row, "at": row["at"].isoformat()} for row in made]  # as the buffer holds them


def test_a_batch_written_twice_is_stored_once_with_its_values(
    link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        rows = _rows(link["code"], 25)
        rows[0]["platform_click_id"] = "a\tb\\c\nd\re \\N ñ"  # COPY's own characters, stored as sent
        assert click_writes.write(rows) == 25
        db.session.commit()
        assert click_writes.write(rows + _rows(link["code"], 2)) == 2
        db.session.commit()
        stored = db.session.scalar(select(Click).where(Click.click_id == rows[3]["click_id"]))
        assert stored is not None
        assert (stored.platform_click_param, stored.platform_click_id) == ("ttclid", "T3")
        assert stored.at == datetime.fromisoformat(rows[3]["at"]) and stored.campaign_id == 41
        assert db.session.scalar(select(func.count()).select_from(Click)) == 27
        tricky = select(Click.platform_click_id).where(Click.click_id == rows[0]["click_id"])
        assert db.session.scalar(tricky) == "a\tb\\c\nd\re \\N ñ"


def test_a_connection_lost_mid_write_is_an_operational_error_then_the_retry_stores_it(
    link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("ends a PostgreSQL session of its own")
        rows = _rows(link["code"], 30)
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as other:  # this test's own session, nobody else's
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError):
            click_writes.write(rows)
        db.session.rollback()
        assert click_writes.write(rows) == 30
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Click)) == 30
