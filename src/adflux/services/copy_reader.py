"""`COPY ... TO STDOUT` read straight from libpq into one buffer, without psycopg's per-row machinery.

libpq hands a COPY out one row per call. psycopg's `Copy` iterator wraps every call in its
generator-and-wait protocol: ~1.3 µs of Python per row, under the GIL — 1.3 s of CPU for the
million candidate rows a segmentation reads, time the other threads (the CLI's imports, the
training) wait for. Here the loop is three C calls per row (`get_copy_data` on data libpq already
buffered; `select` and `consume_input` only when it has none: the GIL is free while waiting), and
the same bytes come out (a test compares them with psycopg's `Copy`). Measured 1.33 → 0.52 s of CPU
at a million rows (bench/README.md, issue 26 item 6).

The connection must be idle or inside a transaction its owner opened (psycopg's own state is not
touched: it keeps reading `transaction_status` from libpq); any failure raises `psycopg.Error` with
the server's message and leaves the connection ready for the caller's rollback.
"""

from __future__ import annotations

import select
from typing import Any

import numpy as np
import psycopg
from psycopg import pq

# Binary COPY: the 11-byte signature, flags and header-extension length; then per row a field
# count (int16) and, per field, a length (int32) and the value; then the trailer, -1 as int16.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_TRAILER_SIZE = 2


def copy_out(conn: psycopg.Connection[Any], statement: str) -> bytearray:
    """Every byte `statement` (a `COPY ... TO STDOUT`) sends, in one buffer.

    Holds the connection's lock the way psycopg's own operations do: a connection shared by two
    threads (the streamed assignment: one reads chunks, one writes them) takes turns.
    """
    with conn.lock:
        return _copy_out(conn.pgconn, statement)


def _copy_out(pgconn: Any, statement: str) -> bytearray:
    pgconn.send_query(statement.encode())
    _flush(pgconn)
    result = _next_result(pgconn)
    if result is None or result.status != pq.ExecStatus.COPY_OUT:
        _drain(pgconn)
        raise _error(pgconn, result)
    buffer = bytearray()
    get_copy_data = pgconn.get_copy_data
    while True:
        size, data = get_copy_data(1)  # 1: never block holding the GIL
        if size > 0:
            buffer += data
        elif size == 0:
            _wait_readable(pgconn)
            pgconn.consume_input()
        elif size == -1:
            break
        else:
            _drain(pgconn)
            raise _error(pgconn, None)
    failure = None
    while (result := _next_result(pgconn)) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and failure is None:
            failure = _error(pgconn, result)
    if failure is not None:
        raise failure
    return buffer


def copy_out_int64(conn: psycopg.Connection[Any], query: str, columns: int) -> list[np.ndarray]:
    """The `columns` columns of `query` (each `bigint`, never NULL) as int64 arrays, by binary COPY.

    Every row has the same width, so the rows are one NumPy record array over the bytes: no
    parsing at all (the CSV path ran Arrow's reader on threads of its own). A NULL, another type
    or a malformed stream raises ValueError instead of reading wrong numbers.
    """
    data = copy_out(conn, f"COPY ({query}) TO STDOUT (FORMAT BINARY)")
    if not data.startswith(_BINARY_HEADER) or data[-_TRAILER_SIZE:] != b"\xff\xff":
        raise ValueError("not a binary COPY stream")
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i in range(columns):
        fields += [(f"length{i}", ">i4"), (f"value{i}", ">i8")]
    row = np.dtype(fields)
    body = len(data) - len(_BINARY_HEADER) - _TRAILER_SIZE
    if body % row.itemsize:
        raise ValueError("binary COPY rows hold NULLs or values that are not bigint")
    rows = np.frombuffer(data, dtype=row, count=body // row.itemsize, offset=len(_BINARY_HEADER))
    if len(rows) and (
        np.any(rows["count"] != columns) or any(np.any(rows[f"length{i}"] != 8) for i in range(columns))
    ):
        raise ValueError("binary COPY rows hold NULLs or values that are not bigint")
    return [rows[f"value{i}"].astype(np.int64) for i in range(columns)]


def _flush(pgconn: Any) -> None:
    while pgconn.flush() == 1:
        select.select([], [pgconn.socket], [])


def _wait_readable(pgconn: Any) -> None:
    select.select([pgconn.socket], [], [])


def _next_result(pgconn: Any) -> Any:
    """The next result, reading from the socket while libpq is busy (None: no more results)."""
    while pgconn.is_busy():
        _wait_readable(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _drain(pgconn: Any) -> None:
    while _next_result(pgconn) is not None:
        pass


def _error(pgconn: Any, result: Any) -> psycopg.Error:
    message = result.error_message if result is not None and result.error_message else pgconn.error_message
    text = bytes(message or b"COPY failed").decode("utf-8", "replace").strip()
    return psycopg.DatabaseError(text)
