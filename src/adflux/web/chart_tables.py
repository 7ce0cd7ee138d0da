"""Each chart's data as a table: the accessible alternative shown beside every chart.

Built from the same spec the chart is drawn from (web/charts.py), so the two never disagree;
values are written with the dashboard's own filters (pesos, counts, percentages, scores).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from adflux.web.formatting import EMPTY, cop, decimal, locale_name, number, percent

Table = dict[str, Any]  # {"head": [str, ...], "rows": [[str, ...], ...]}


def _writer(kind: str | None) -> Callable[[Any], str]:
    """The filter for `kind`, with the reader's language looked up once for the whole table."""
    writers: dict[str, Callable[..., str]] = {"cop": cop, "number": number, "percent": percent}
    return partial(writers.get(kind or "", decimal), locale=locale_name())


def chart_table(spec: dict[str, Any]) -> Table:
    """The spec's data as rows: one per label (line, bar), or one per point group (scatter, bubble).

    `body` is the rows as the table's HTML (`<tr><th scope="row">label</th><td class="num">…`),
    every cell escaped, written in one pass here: a campaign page's four charts carry 360 rows of
    four cells, which a Jinja loop escaped and joined cell by cell at several times the cost."""
    write = _writer(spec.get("format"))
    datasets = spec.get("datasets") or []
    if spec.get("type") in ("scatter", "bubble"):
        return _with_body(_points_table(spec, datasets))
    axes = spec.get("axes") or {}
    first = spec.get("label_head") or axes.get("x") or _("Label")
    head = [str(first), *[str(d.get("label", "")) for d in datasets]]
    labels = [str(label) for label in spec.get("labels") or []]
    # Column by column (a dataset's values written in one comprehension), then zipped into rows;
    # a dataset shorter than the labels (or without a list) has empty cells where it has no value.
    columns = [_column(write, d.get("data"), len(labels)) for d in datasets]
    if not columns:
        return _with_body({"head": head, "rows": [[label] for label in labels]})
    rows = [[label, *cells] for label, cells in zip(labels, zip(*columns, strict=True), strict=True)]
    return _with_body({"head": head, "rows": rows})


def _column(write: Callable[[Any], str], values: Any, length: int) -> list[str]:
    found = values[:length] if isinstance(values, list) else []
    return [EMPTY if value is None else write(value) for value in found] + [EMPTY] * (length - len(found))


def _with_body(table: Table) -> Table:
    table["body"] = Markup("\n".join(map(_row_html, table["rows"])))
    return table


def _row_html(row: list[str]) -> str:
    cells = "".join([f'<td class="num">{escape(value)}</td>' for value in row[1:]])
    return f'<tr><th scope="row">{escape(row[0])}</th>{cells}</tr>'


def _points_table(spec: dict[str, Any], datasets: list[dict[str, Any]]) -> Table:
    """Points are too many to list: each group's centre (or mean) and how many points it has."""
    axes = spec.get("axes") or {}
    head = [_("Group"), str(axes.get("x", "x")), str(axes.get("y", "y")), _("Points")]
    rows = []
    for data in datasets:
        points = [p for p in data.get("data") or [] if isinstance(p, dict)]
        if data.get("centres"):
            names = data.get("names") or []
            for i, p in enumerate(points):
                label = _("Centre: %(name)s", name=names[i] if i < len(names) else i)
                rows.append([label, decimal(p.get("x")), decimal(p.get("y")), EMPTY])
            continue
        if not points:
            continue
        mean_x = sum(float(p.get("x", 0)) for p in points) / len(points)
        mean_y = sum(float(p.get("y", 0)) for p in points) / len(points)
        count = sum(int(p.get("size") or 0) for p in points) if spec.get("type") == "bubble" else len(points)
        rows.append([str(data.get("label", "")), decimal(mean_x), decimal(mean_y), number(count)])
    return {"head": head, "rows": rows}
