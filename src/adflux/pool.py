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


def _check_socket(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        raise DisconnectionError("connection closed")
    try:
        # poll, not select: select refuses descriptors above 1023, which a busy process reaches.
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
        ready = poller.poll(0)
    except (OSError, ValueError) as exc:  # the socket is gone altogether
        raise DisconnectionError(f"connection socket unusable: {exc}") from exc
    if ready:
        logger.info("discarding a pooled database connection the server closed")
        raise DisconnectionError("the server closed the connection")
