"""Tables for people: Colombian number formats, figures kept whole, nothing cut off at the edge."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from adflux.cli import output
from adflux.cli.output import cop, number, percent, print_table


@pytest.fixture()
def screen(monkeypatch):
    """Point the CLI's console at an in-memory terminal of a given width; return its text."""

    def open_screen(width: int):
        buffer = io.StringIO()
        monkeypatch.setattr(output, "console", Console(file=buffer, width=width, color_system=None))
        return buffer

    return open_screen


def test_numbers_are_written_the_colombian_way():
    assert number(1234567) == "1.234.567"
    assert number(None) == "—"
    assert cop(11032278.4) == "$ 11.032.278"
    assert percent(0.0733) == "7,33 %"
    assert percent(0.14, digits=1) == "14,0 %"
    assert percent(12.3456) == "1.234,56 %"


REPORT_COLUMNS = [
    ("Segmento", "segment"),
    ("Impr.", lambda r: number(r["impressions"])),
    ("Postul.", lambda r: number(r["applications"])),
    ("Inversión", lambda r: cop(r["spend"])),
    ("CTR", lambda r: percent(r["ctr"])),
]
REPORT_ROWS = [
    {
        "segment": "Administración · varias ciudades · técnico · 18–24",
        "impressions": 534422,
        "applications": 802,
        "spend": 5897471,
        "ctr": 0.0135,
    },
    {
        "segment": "Salud · Bogotá D.C.",
        "impressions": 977524,
        "applications": 1503,
        "spend": 11032278,
        "ctr": None,
    },
]


def test_figures_stay_whole_and_right_aligned_while_text_wraps_in_80_columns(screen):
    buffer = screen(80)
    print_table("Resultados", REPORT_COLUMNS, REPORT_ROWS)
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    for figure in ("534.422", "802", "$ 5.897.471", "1,35 %", "977.524", "1.503", "$ 11.032.278", "—"):
        assert any(figure in line for line in lines), figure
    row = next(line for line in lines if "$ 11.032.278" in line)
    assert row.rstrip().endswith("—")  # the last (right-aligned) column ends the line


def test_a_terminal_too_narrow_folds_every_column_and_cuts_nothing_off(screen):
    buffer = screen(30)
    print_table("Resultados", REPORT_COLUMNS, REPORT_ROWS)
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 30
    # Nothing was cut off: every digit of every cell is printed (folded over lines).
    cells = [
        str(getter(row) if callable(getter) else row[getter])
        for row in REPORT_ROWS
        for _, getter in REPORT_COLUMNS
    ]
    assert sum(c.isdigit() for c in buffer.getvalue()) == sum(c.isdigit() for c in "".join(cells))
