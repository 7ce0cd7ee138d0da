"""A small bar chart as a PNG, written with the standard library (zlib), for e-mails.

Mail clients show PNG where they refuse SVG and scripts; the weekly report needs one picture of
the week, not a plotting library.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

WIDTH, HEIGHT = 560, 200
MARGIN = 16
BACKGROUND = (255, 255, 255)
BAR = (31, 78, 121)  # the dashboard's navy: 8.9:1 against white
BASELINE = (120, 120, 120)


def bar_chart_png(values: Sequence[float], *, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """One bar per value (scaled to the largest), on a white ground with a grey baseline."""
    pixels = [[BACKGROUND] * width for _ in range(height)]
    top, bottom = MARGIN, height - MARGIN
    peak = max((v for v in values if v > 0), default=0.0)
    slot = (width - 2 * MARGIN) / max(len(values), 1)
    for index, value in enumerate(values):
        left = int(MARGIN + index * slot + slot * 0.15)
        right = int(MARGIN + (index + 1) * slot - slot * 0.15)
        bar_height = round((bottom - top) * value / peak) if peak else 0
        for y in range(bottom - bar_height, bottom):
            row = pixels[y]
            for x in range(left, right):
                row[x] = BAR
    for x in range(MARGIN, width - MARGIN):
        pixels[bottom][x] = BASELINE
    return _png(pixels, width, height)


def _png(pixels: list[list[tuple[int, int, int]]], width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
