"""Pooled PostgreSQL connections are checked by their socket on checkout, not by a SELECT 1."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import text

from adflux.extensions import db


@pytest.fixture
def pg_engine(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the socket check is for PostgreSQL (SQLite keeps SQLAlchemy's ping)")
        yield db.engine


def test_a_connection_the_server_closed_is_replaced_before_any_statement(pg_engine, caplog) -> None:
    pooled, other = pg_engine.connect(), pg_engine.connect()
    victim = pooled.execute(text("SELECT pg_backend_pid()")).scalar_one()
    pooled.close()  # back in the pool, idle; the server now ends its backend (as a restart would)
    assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar_one()
    other.close()
    caplog.set_level(logging.INFO, logger="adflux.pool")
    seen: set[int] = set()
    for _ in range(pg_engine.pool.size() + 2):  # every pooled connection gets checked out once
        with pg_engine.connect() as conn:
            seen.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    assert victim not in seen
    assert "discarding a pooled database connection the server closed" in caplog.text


def test_checkout_sends_no_ping_of_its_own(pg_engine, monkeypatch) -> None:
    with pg_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    pings: list[object] = []
    ping = pg_engine.dialect.do_ping
    monkeypatch.setattr(
        pg_engine.dialect, "do_ping", lambda dbapi_conn: pings.append(dbapi_conn) or ping(dbapi_conn)
    )
    for _ in range(3):
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT 2")).scalar_one() == 2
    assert pings == []  # the socket check replaced SQLAlchemy's SELECT 1 per checkout
    assert pg_engine.pool._pre_ping is False
