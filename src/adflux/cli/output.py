"""Printing for people (rich tables) and for scripts (--json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from babel.numbers import format_decimal, format_percent
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from adflux.constants import STATUS_NAMES_ES

console = Console()
# The command line speaks to Colombian marketing teams: numbers as the dashboard writes them in es-CO.
LOCALE = "es_CO"

# A cell that is a figure: a count, pesos, a percentage, a score or an id ("—" when missing).
# Such columns are right-aligned and never broken across lines ("$ 3.676.0 / 65" reads wrong).
_AMOUNT = r"[-+]?(\$ ?)?[\d.,]+( ?%)?"
_FIGURE = re.compile(rf"^(—|{_AMOUNT}( – {_AMOUNT})?)$")
_TEXT_MIN = 8  # characters of a text column worth keeping beside whole figures
_GAP = 2  # between columns: one column's right padding and the (blank) separator


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(
    title: str,
    columns: Sequence[tuple[str, str | Callable[[dict[str, Any]], Any]]],
    rows: Iterable[dict[str, Any]],
    *,
    caption: str | None = None,
) -> None:
    """One rich table; each column is (header, key or function of the row).

    Figures are right-aligned and kept whole; text columns wrap at words, so a table still reads
    in an 80-column terminal.
    """
    cells: list[list[str]] = []
    for row in rows:
        line = []
        for _, getter in columns:
            value = getter(row) if callable(getter) else row.get(getter)
            line.append("" if value is None else str(value))
        cells.append(line)
    table = Table(
        title=title,
        caption=caption,
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    figure_widths: dict[int, int] = {}
    for index, (header, _) in enumerate(columns):
        values = [line[index] for line in cells if line[index]]
        if values and all(_FIGURE.match(value) for value in values):
            figure_widths[index] = max(len(word) for word in [*header.split(), *values])
    # Figures stay whole when they fit beside a few characters of each text column (text wraps
    # at words); in a terminal too narrow even for that, every column folds instead of the
    # table being cut off at the edge.
    needed = sum(figure_widths.values()) + _GAP * (len(columns) - 1)
    needed += sum(
        min(_TEXT_MIN, max((len(line[index]) for line in cells), default=len(header)))
        for index, (header, _) in enumerate(columns)
        if index not in figure_widths
    )
    keep_whole = needed <= console.width
    for index, (header, _) in enumerate(columns):
        if index in figure_widths:
            # The header is its own Text so it may wrap at words above figures that may not.
            heading = Text(header, no_wrap=False, overflow="fold")
            width = figure_widths[index] if keep_whole else None
            table.add_column(heading, justify="right", width=width, overflow="fold")
        else:
            table.add_column(header, overflow="fold")
    for line in cells:
        table.add_row(*line)
    console.print(table)


def number(value: float | None) -> str:
    """A count the way people in Colombia write it: 1.234.567."""
    if value is None:
        return "—"
    return format_decimal(round(value), locale=LOCALE)


def percent(ratio: float | None, digits: int = 2) -> str:
    """A ratio as a Colombian percentage: 0.0733 -> "7,33 %" (the dashboard's pattern)."""
    if ratio is None:
        return "—"
    return format_percent(ratio, format="#,##0." + "0" * digits + " %", locale=LOCALE)


def score(value: float | None, digits: int = 3) -> str:
    """A score such as a silhouette with a decimal comma and no grouping: 0,367."""
    if value is None:
        return "—"
    return format_decimal(value, format="0." + "0" * digits if digits else "0", locale=LOCALE)


def cop(amount: int | float | None) -> str:
    """Colombian pesos the way people in Colombia write them: $ 1.234.567."""
    if amount is None:
        return "—"
    return "$ " + number(amount)


def status_name(code: str | None) -> str:
    """A status code as people read it ("partially_active" -> "parcialmente activa")."""
    if not code:
        return "—"
    return STATUS_NAMES_ES.get(code, code)


def page_caption(page: dict[str, Any]) -> str:
    return f"página {page['page']} de {page['pages']} · {number(page['total'])} en total"
