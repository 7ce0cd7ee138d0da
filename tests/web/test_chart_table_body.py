"""A chart's data table is written in Python in one pass (`body`): the same HTML the template's
cell-by-cell loop wrote, every cell escaped, for line, bar and point charts."""

from __future__ import annotations

from jinja2 import Environment

from adflux.web import chart_tables
from adflux.web.chart_tables import chart_table
from adflux.web.formatting import EMPTY

# The loop the chart macro ran before `body` (templates/_macros.html).
OLD_LOOP = Environment(autoescape=True).from_string(
    '{% for row in table.rows %}<tr><th scope="row">{{ row[0] }}</th>'
    '{% for cell in row[1:] %}<td class="num">{{ cell }}</td>{% endfor %}</tr>\n{% endfor %}'
)


def _specs() -> list[dict]:
    return [
        {"type": "line", "format": "cop", "label_head": "Día", "labels": ["1 mar", "2 <mar>", "3 & 'mar'"],
         "datasets": [{"label": "Meta", "data": [1200.4, None, 3]}, {"label": 'X "b"', "data": [5, 6]}]},
        {"type": "line", "format": "percent", "labels": ["a", "b"],
         "datasets": [{"label": "CTR", "data": [0.0123, 1]}]},
        {"type": "bar", "format": "number", "labels": ["sola"], "datasets": []},
        {"type": "scatter", "axes": {"x": "PC1", "y": "PC2"},
         "datasets": [{"label": "<seg>", "data": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}]},
    ]  # fmt: skip


def _old_rows(spec: dict) -> list[list[str]]:
    """The rows as chart_table wrote them cell by cell before (label by label, dataset by dataset)."""
    write = chart_tables._writer(spec.get("format"))
    columns = [d.get("data") for d in spec.get("datasets") or []]

    def at(values, i):
        return values[i] if isinstance(values, list) and i < len(values) else None

    return [
        [str(label), *[EMPTY if at(data, i) is None else write(at(data, i)) for data in columns]]
        for i, label in enumerate(spec.get("labels") or [])
    ]


def test_the_rows_are_the_old_cell_by_cell_rows(app):
    odd = {
        "type": "line", "format": "number", "labels": [1, 2, 3],
        "datasets": [{"label": "a", "data": None}, {"label": "b", "data": [1, 2, 3, 4]}],
    }  # fmt: skip
    with app.test_request_context("/"):
        for spec in [*_specs()[:3], odd]:
            assert chart_table(spec)["rows"] == _old_rows(spec), spec


def test_the_body_is_the_old_loop_s_html(app):
    with app.test_request_context("/"):
        for spec in _specs():
            table = chart_table(spec)
            assert table["rows"], spec
            old = OLD_LOOP.render(table=table)
            assert str(table["body"]) + "\n" == old, spec
            assert "<mar>" not in str(table["body"]) and "<seg>" not in str(table["body"])


def test_spanish_pesos_and_percentages_in_the_cells(app):
    with app.test_request_context("/", headers={"Accept-Language": "es-CO"}):
        body = str(chart_table(_specs()[0])["body"])
        percent = str(chart_table(_specs()[1])["body"])
    assert '<td class="num">$ 1.200</td>' in body and '<td class="num">—</td>' in body
    assert '<td class="num">1,23 %</td>' in percent and '<td class="num">100,00 %</td>' in percent
