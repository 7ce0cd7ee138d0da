"""Printing for people (rich tables) and for scripts (--json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from babel.numbers import format_decimal, format_percent
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from adflux.catalogue import gettext as _
from adflux.cli.choices import SEVERITY_NAMES_EN, STATUS_NAMES_EN, named

console = Console()
# The command line speaks to Colombian marketing teams: numbers as the dashboard writes them in es-CO.
LOCALE = "es_CO"
BOGOTA = ZoneInfo("America/Bogota")

# A cell that is a figure: a count, pesos, a percentage, a score or an id ("—" when missing).
# Such columns are right-aligned and never broken across lines ("$ 3.676.0 / 65" reads wrong).
_AMOUNT = r"[-+]?(\$ ?)?[\d.,]+( ?%)?"
_FIGURE = re.compile(rf"^(—|{_AMOUNT}( – {_AMOUNT})?)$")
_TEXT_MIN = 8  # characters of a text column worth keeping beside whole figures
_GAP = 2  # between columns: one column's right padding and the (blank) separator
_EDGES = 2  # the table's blank left and right edges


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(
    title: str,
    columns: Sequence[tuple[str, str | Callable[[dict[str, Any]], Any]]],
    rows: Iterable[dict[str, Any]],
    *,
    caption: str | None = None,
    hide_first: Sequence[str] = (),
) -> None:
    """One rich table; each column is (header, key or function of the row).

    Figures are right-aligned and kept whole; text columns wrap between words, never inside one.
    When the longest words of every column do not fit the terminal side by side, the columns
    named in ``hide_first`` are left out, in that order, until they do (the caption says which);
    only a terminal too narrow even then folds words. Headers (and ``hide_first``) are English
    msgids, marked with N_() where the columns are written, shown in the CLI's language.
    """
    columns = [(_(header) if header else header, getter) for header, getter in columns]
    hide_first = [_(header) for header in hide_first]
    cells = [_row_cells(columns, row) for row in rows]
    shown = list(range(len(columns)))
    hidden: list[str] = []
    for header in hide_first:
        if _words_width(columns, cells, shown) <= console.width:
            break
        index = next((i for i in shown if columns[i][0] == header), None)
        if index is not None:
            shown.remove(index)
            hidden.append(header)
    if hidden:
        note = _(
            "without %(columns)s for the terminal's width (--json shows everything)",
            columns=", ".join(hidden),
        )
        caption = f"{caption} · {note}" if caption else note
    table = Table(
        title=title,
        caption=caption,
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    visible = [columns[i] for i in shown]
    lines = [[line[i] for i in shown] for line in cells]
    _add_columns(table, visible, lines)
    for line in lines:
        table.add_row(*line)
    console.print(table)


def _row_cells(columns: Sequence[tuple[str, Any]], row: dict[str, Any]) -> list[str]:
    line = []
    for _header, getter in columns:
        value = getter(row) if callable(getter) else row.get(getter)
        line.append("" if value is None else str(value))
    return line


def _longest_word(texts: Iterable[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def _figure_width(header: str, cells: list[list[str]], index: int) -> int | None:
    """A figures-only column's width (header words and whole figures), or None for text."""
    values = [line[index] for line in cells if line[index]]
    if values and all(_FIGURE.match(value) for value in values):
        return max(len(word) for word in [*header.split(), *values])
    return None


def _words_width(columns: Sequence[tuple[str, Any]], cells: list[list[str]], shown: list[int]) -> int:
    """The narrowest the shown columns can be without a word split (figures whole)."""
    widths = []
    for index in shown:
        header = columns[index][0]
        figure = _figure_width(header, cells, index)
        widths.append(
            figure if figure is not None else _longest_word([header, *(line[index] for line in cells)])
        )
    return sum(widths) + _GAP * (len(shown) - 1) + _EDGES


def _add_columns(table: Table, columns: Sequence[tuple[str, Any]], cells: list[list[str]]) -> None:
    figure_widths = {
        index: width
        for index, (header, _getter) in enumerate(columns)
        if (width := _figure_width(header, cells, index)) is not None
    }
    # Figures stay whole when they fit beside a few characters of each text column (text wraps
    # at words); in a terminal too narrow even for that, every column folds instead of the
    # table being cut off at the edge.
    needed = sum(figure_widths.values()) + _GAP * (len(columns) - 1)
    needed += sum(
        min(_TEXT_MIN, max((len(line[index]) for line in cells), default=len(header)))
        for index, (header, _getter) in enumerate(columns)
        if index not in figure_widths
    )
    keep_whole = needed <= console.width
    # Text columns at least their longest word wide, so rich wraps between words (when all fit).
    words_fit = _words_width(columns, cells, list(range(len(columns)))) <= console.width
    for index, (header, _getter) in enumerate(columns):
        if index in figure_widths:
            # The header is its own Text so it may wrap at words above figures that may not.
            heading = Text(header, no_wrap=False, overflow="fold")
            width = figure_widths[index] if keep_whole else None
            table.add_column(heading, justify="right", width=width, overflow="fold")
        else:
            longest = _longest_word([header, *(line[index] for line in cells)])
            table.add_column(header, overflow="fold", min_width=longest if words_fit else None)


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
    return named(STATUS_NAMES_EN, code)


def severity_name(code: str | None) -> str:
    """An alert severity as people read it ("critical" -> "crítica")."""
    return named(SEVERITY_NAMES_EN, code)


def page_caption(page: dict[str, Any]) -> str:
    """Where this page is: "página 2 de 5 · 93 en total", "≈ 10.000.000 en total (estimado)"."""
    total = number(page["total"])
    if page.get("total_estimated"):
        total = _("≈ %(total)s in all (estimated)", total=total)
    else:
        total = _("%(total)s in all", total=total)
    if page.get("page"):
        where = _("page %(page)s of %(pages)s", page=page["page"], pages=number(page["pages"]))
    else:
        where = _("next stretch")
    caption = f"{where} · {total}"
    if page.get("next_cursor"):
        caption += " · " + _("more: --cursor %(cursor)s", cursor=page["next_cursor"])
    return caption


def bogota_time(value: str | None) -> str:
    """An API timestamp (ISO, UTC) as Bogotá wall time: 2026-12-06 07:05."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(BOGOTA):%Y-%m-%d %H:%M}"
