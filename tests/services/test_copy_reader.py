"""`copy_reader.copy_out`: the bytes psycopg's `Copy` gives, without its per-row loop; errors as psycopg's."""

from __future__ import annotations

import psycopg
import pytest

from adflux.extensions import db
from adflux.services.copy_reader import copy_out


def _conninfo() -> str:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


QUERY = (
    "COPY (SELECT g, 'fila ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'a,\"b\"' END, repeat('x', g % 50)"
    " FROM generate_series(1, 20000) g) TO STDOUT (FORMAT CSV)"
)


def test_the_same_bytes_as_psycopgs_copy_inside_and_outside_a_transaction(app_ctx):
    conninfo = _conninfo()
    with psycopg.connect(conninfo) as conn:
        expected = bytearray()
        with conn.cursor() as cur, cur.copy(QUERY) as copy:
            for chunk in copy:
                expected += chunk
        conn.rollback()
        assert copy_out(conn, QUERY) == expected  # outside a transaction
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        assert copy_out(conn, QUERY) == expected  # inside the one psycopg opened
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
        assert expected.count(b"\n") == 20000
        assert copy_out(conn, "COPY (SELECT 1 WHERE false) TO STDOUT") == bytearray()


def test_a_failing_copy_raises_the_servers_message_and_the_connection_stays_usable(app_ctx):
    conninfo = _conninfo()
    with psycopg.connect(conninfo) as conn:
        with pytest.raises(psycopg.Error, match="division by zero"):
            copy_out(conn, "COPY (SELECT 1 / (g - 5000) FROM generate_series(1, 10000) g) TO STDOUT")
        with pytest.raises(psycopg.Error, match="does not exist"):
            copy_out(conn, "COPY (SELECT * FROM adflux_no_such_table) TO STDOUT")
        with pytest.raises(psycopg.Error):  # not a COPY at all
            copy_out(conn, "SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)


def test_bigint_columns_come_back_as_int64_arrays_and_anything_else_is_refused(app_ctx):
    import numpy as np

    from adflux.services.copy_reader import copy_out_int64

    conninfo = _conninfo()
    with psycopg.connect(conninfo) as conn:
        ids, values = copy_out_int64(
            conn, "SELECT g::int8, (g * 3 - 2 ^ 40)::int8 FROM generate_series(1, 50000) g", 2
        )
        np.testing.assert_array_equal(ids, np.arange(1, 50001))
        np.testing.assert_array_equal(values, np.arange(1, 50001) * 3 - 2**40)
        assert ids.dtype == np.int64 and ids.flags.writeable
        (empty,) = copy_out_int64(conn, "SELECT 1::int8 WHERE false", 1)
        assert empty.shape == (0,)
        with pytest.raises(ValueError, match="NULL"):
            copy_out_int64(conn, "SELECT g::int8, NULLIF(g, 2)::int8 FROM generate_series(1, 3) g", 2)
        with pytest.raises(ValueError):
            copy_out_int64(conn, "SELECT g::int4 FROM generate_series(1, 3) g", 1)
        conn.rollback()
