"""Connection liveness on checkout without a round trip (PostgreSQL).

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` every time a connection leaves the pool: one more
round trip per request, which on this 2-core machine is ~60 µs of client CPU, a wake-up of the
server backend, and the latency of a loopback exchange, for a request that itself needs one or
two statements. AdFlux asks the socket instead. A pooled connection is idle: the server has
nothing to say to it, so a socket with something to read means the server is closing it (a
restart or `pg_terminate_backend` sends a FATAL message and closes the socket) and it is thrown
away, and the pool connects anew — the same outcome as a failed ping, before any statement runs.
A connection that libpq already knows is bad (closed, or broken by an earlier error) is thrown
away too. What a socket check cannot see (a peer that vanished without closing, a network
partition) a ping could not tell quickly either; the next statement fails, the pool is
invalidated and the request's error handling applies.

A connection the pool opened a moment ago can be dead too (a restart closes it right after it
was accepted). SQLAlchemy gives a checkout two tries and then raises a bare InvalidRequestError,
which reads as a bug; so a dead connection that was never handed out before is reported as the
driver's OperationalError, which SQLAlchemy wraps like any failed connect (the API answers 503
with Retry-After), and only a dead *pooled* connection asks the pool to connect anew.
"""

from __future__ import annotations

import logging
import select
from typing import Any

from sqlalchemy import Engine, event, make_url
from sqlalchemy.exc import DisconnectionError

logger = logging.getLogger(__name__)


def checks_sockets(database_uri: str) -> bool:
    """Whether connections to `database_uri` get the socket check (psycopg) rather than a ping."""
    return make_url(database_uri).get_driver_name() == "psycopg"


def install_liveness_check(engine: Engine) -> None:
    """Check every checkout of `engine`'s psycopg connections by their socket (see module doc)."""
    event.listen(engine, "checkout", _check_socket)


# Set in a connection record's info once its connection passed a check; SQLAlchemy clears the
# info whenever the record connects anew, so a record without it holds a brand-new connection.
_HANDED_OUT = "adflux_handed_out"


def _check_socket(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    problem = _dead_because(dbapi_connection)
    if problem is None:
        connection_record.info[_HANDED_OUT] = True
        return
    if not connection_record.info.get(_HANDED_OUT):
        # Nothing to fall back on: the database is going away. Fail as a connect would.
        raise type(dbapi_connection).OperationalError(f"new database connection unusable: {problem}")
    logger.info("discarding a pooled database connection the server closed")
    raise DisconnectionError(problem)


def _dead_because(dbapi_connection: Any) -> str | None:
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        return "connection closed"
    try:
        # poll, not select: select refuses descriptors above 1023, which a busy process reaches.
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
        ready = poller.poll(0)
    except (OSError, ValueError) as exc:  # the socket is gone altogether
        return f"connection socket unusable: {exc}"
    return "the server closed the connection" if ready else None
