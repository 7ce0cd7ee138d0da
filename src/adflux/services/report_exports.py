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


def report_csv(report: dict[str, Any], *, style: str = "excel", language: str = "es") -> str:
    """The report as CSV: one line per row, then a totals line."""
    dims = list(report["group_by"])
    labels = [c for c in ("campaign_name", "segment_name") if report["rows"] and c in report["rows"][0]]
    columns = [*dims, *labels]
    out = io.StringIO()
    if style == "plain":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*columns, *METRICS])
        for row in report["rows"]:
            writer.writerow([row.get(c) for c in columns] + [_plain(row.get(m)) for m in METRICS])
        totals = ["TOTAL"] + [""] * (len(columns) - 1)
        writer.writerow(totals + [_plain(report["totals"].get(m)) for m in METRICS])
        return out.getvalue()
    names = HEADERS.get(language, HEADERS["es"])
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([names[c] for c in [*columns, *METRICS]])
    for row in report["rows"]:
        writer.writerow([_label(c, row.get(c)) for c in columns] + [_excel(m, row.get(m)) for m in METRICS])
    totals = [names["total"]] + [""] * (len(columns) - 1)
    writer.writerow(totals + [_excel(m, report["totals"].get(m)) for m in METRICS])
    return BOM + out.getvalue()


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
