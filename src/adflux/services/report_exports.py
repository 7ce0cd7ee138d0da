"""Performance reports as CSV files: for Excel set to Colombian Spanish, or plain for scripts.

The default ("excel") opens right in Excel in es-CO: a UTF-8 byte-order mark (so accents show),
`;` between fields, decimal commas, whole pesos, labels instead of codes ("Meta",
"Logística y transporte") and dates as dd/mm/aaaa, with Spanish headers (English on request).
"plain" is for programs: UTF-8 without BOM, `,`, dot decimals, ISO dates, the API's codes and
field names.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date
from typing import Any

from adflux.constants import JOB_CATEGORY_LABELS, PLATFORM_LABELS

CSV_STYLES = ("excel", "plain")
CSV_LANGUAGES = ("es", "en")
BOM = "\ufeff"
METRICS = ("impressions", "reach", "engagements", "clicks", "spend", "applications", "ctr", "cpc", "cpa")
_MONEY = {"spend", "cpc", "cpa"}
HEADERS: dict[str, dict[str, str]] = {
    "es": {
        "campaign": "Campaña",
        "campaign_name": "Nombre de la campaña",
        "platform": "Plataforma",
        "segment": "Segmento (ID)",
        "segment_name": "Segmento",
        "category": "Categoría",
        "day": "Día",
        "impressions": "Impresiones",
        "reach": "Alcance",
        "engagements": "Interacciones",
        "clicks": "Clics",
        "spend": "Inversión (COP)",
        "applications": "Postulaciones",
        "ctr": "CTR (%)",
        "cpc": "CPC (COP)",
        "cpa": "CPA (COP)",
        "total": "TOTAL",
    },
    "en": {
        "campaign": "Campaign",
        "campaign_name": "Campaign name",
        "platform": "Platform",
        "segment": "Segment (ID)",
        "segment_name": "Segment",
        "category": "Category",
        "day": "Day",
        "impressions": "Impressions",
        "reach": "Reach",
        "engagements": "Engagements",
        "clicks": "Clicks",
        "spend": "Spend (COP)",
        "applications": "Applications",
        "ctr": "CTR (%)",
        "cpc": "CPC (COP)",
        "cpa": "CPA (COP)",
        "total": "TOTAL",
    },
}


EXPORT_PAGE = 1000  # rows per query while a CSV export streams


def report_csv(report: dict[str, Any], *, style: str = "excel", language: str = "es") -> str:
    """The report as CSV: one line per row, then a totals line."""
    return "".join(report_csv_chunks(report, iter(report["rows"]), style=style, language=language))


def report_csv_chunks(
    report: dict[str, Any], rows: Iterator[dict[str, Any]], *, style: str = "excel", language: str = "es"
) -> Iterator[str]:
    """The CSV of `report` with `rows` (every page's, as they are read), a chunk per 1,000 lines."""
    dims = list(report["group_by"])
    first = next(rows, None)
    labels = [c for c in ("campaign_name", "segment_name") if first is not None and c in first]
    columns = [*dims, *labels]
    plain = style == "plain"
    names = HEADERS.get(language, HEADERS["es"])
    out = io.StringIO()
    if plain:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*columns, *METRICS])
    else:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        out.write(BOM)
        writer.writerow([names[c] for c in [*columns, *METRICS]])
    for n, row in enumerate(itertools.chain([first] if first is not None else [], rows), start=1):
        writer.writerow(_line(row, columns, plain=plain))
        if n % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    label = ["TOTAL" if plain else names["total"]] + [""] * (len(columns) - 1)
    writer.writerow(label + _line(report["totals"], [], plain=plain))
    yield out.getvalue()


def _line(row: dict[str, Any], columns: list[str], *, plain: bool) -> list[Any]:
    if plain:
        return [row.get(c) for c in columns] + [_plain(row.get(m)) for m in METRICS]
    return [_label(c, row.get(c)) for c in columns] + [_excel(m, row.get(m)) for m in METRICS]


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return value


def _label(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column == "platform":
        return PLATFORM_LABELS.get(value, value)
    if column == "category":
        return JOB_CATEGORY_LABELS.get(value, value)
    if column == "day":
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return day.strftime("%d/%m/%Y")
    return value


def _excel(metric: str, value: Any) -> str:
    """A figure as Excel in es-CO reads it: whole pesos, percentages with a decimal comma."""
    if value is None:
        return ""
    if metric in _MONEY:
        return str(round(value))
    if metric == "ctr":
        return f"{value * 100:.2f}".replace(".", ",")
    return str(round(value)) if isinstance(value, float) else str(value)
