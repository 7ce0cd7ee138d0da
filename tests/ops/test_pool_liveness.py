"""Pooled PostgreSQL connections are checked by their socket on checkout, not by a SELECT 1."""

from __future__ import annotations

import logging
import select

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


def test_a_new_connection_the_server_closes_at_once_is_a_database_outage_not_a_bug(pg_engine) -> None:
    """A restart can kill the pooled connection *and* the one opened to replace it (CI saw this).

    SQLAlchemy gives a checkout two tries; if the check fails on both it raises a bare
    InvalidRequestError, which the API would answer with a 500. The check reports a new connection
    that is already dead as the DBAPI's OperationalError instead, which SQLAlchemy wraps and the
    API answers with a 503 and Retry-After, as for any other outage.
    """
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    with pg_engine.connect() as conn:
        victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    dsn = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim,))

        def killed_on_arrival(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
            admin.execute("SELECT pg_terminate_backend(%s)", (dbapi_connection.info.backend_pid,))
            poller = select.poll()
            poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
            assert poller.poll(5000), "the server did not close the new connection"

        event.listen(pg_engine, "connect", killed_on_arrival)
        try:
            pg_engine.pool.dispose()  # only dead connections from here on: the pooled one and a new one
            with pg_engine.connect() as conn:  # a fresh pool: its first connection dies on arrival
                pass
        except OperationalError as exc:
            assert "closed" in str(exc)
        else:
            raise AssertionError("a dead new connection was handed out")
        finally:
            event.remove(pg_engine, "connect", killed_on_arrival)

    with pg_engine.connect() as conn:  # and once the server is back, the next checkout just works
        assert conn.execute(text("SELECT 3")).scalar_one() == 3
