"""Each chart's data as a table: the accessible alternative shown beside every chart.

Built from the same spec the chart is drawn from (web/charts.py), so the two never disagree;
values are written with the dashboard's own filters (pesos, counts, percentages, scores).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask_babel import gettext as _

from adflux.web.formatting import EMPTY, cop, decimal, locale_name, number, percent

Table = dict[str, Any]  # {"head": [str, ...], "rows": [[str, ...], ...]}


def _writer(kind: str | None) -> Callable[[Any], str]:
    """The filter for `kind`, with the reader's language looked up once for the whole table."""
    writers: dict[str, Callable[..., str]] = {"cop": cop, "number": number, "percent": percent}
    return partial(writers.get(kind or "", decimal), locale=locale_name())


def _value(write: Callable[[Any], str], value: Any) -> str:
    return EMPTY if value is None else write(value)


def chart_table(spec: dict[str, Any]) -> Table:
    """The spec's data as rows: one per label (line, bar), or one per point group (scatter, bubble)."""
    write = _writer(spec.get("format"))
    datasets = spec.get("datasets") or []
    if spec.get("type") in ("scatter", "bubble"):
        return _points_table(spec, datasets)
    axes = spec.get("axes") or {}
    first = spec.get("label_head") or axes.get("x") or _("Label")
    head = [str(first), *[str(d.get("label", "")) for d in datasets]]
    rows = [
        [str(label), *[_value(write, _at(d.get("data"), i)) for d in datasets]]
        for i, label in enumerate(spec.get("labels") or [])
    ]
    return {"head": head, "rows": rows}


def _at(values: Any, index: int) -> Any:
    return values[index] if isinstance(values, list) and index < len(values) else None


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
