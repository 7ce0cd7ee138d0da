"""Printing for people (rich tables) and for scripts (--json)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(
    title: str,
    columns: Sequence[tuple[str, str | Callable[[dict[str, Any]], Any]]],
    rows: Iterable[dict[str, Any]],
    *,
    caption: str | None = None,
) -> None:
    """One rich table; each column is (header, key or function of the row)."""
    table = Table(title=title, caption=caption, header_style="bold cyan")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        cells = []
        for _, getter in columns:
            value = getter(row) if callable(getter) else row.get(getter)
            cells.append("" if value is None else str(value))
        table.add_row(*cells)
    console.print(table)


def cop(amount: int | float | None) -> str:
    """Colombian pesos the way people in Colombia write them: $ 1.234.567."""
    if amount is None:
        return "—"
    return "$ " + f"{round(amount):,}".replace(",", ".")


def page_caption(page: dict[str, Any]) -> str:
    return f"page {page['page']} of {page['pages']} · {page['total']} in all"
