"""CSV exports: right in Excel set to Colombian Spanish by default, plain for scripts."""

from __future__ import annotations

import csv
import io
from datetime import date

from adflux.services.report_exports import report_csv

REPORT = {
    "group_by": ["day", "category"],
    "rows": [
        {"day": date(2026, 12, 1), "category": "logistica_transporte", "impressions": 12000, "reach": 9000,
         "engagements": None, "clicks": 160, "spend": 890.95, "applications": 3, "ctr": 0.013333,
         "cpc": 5.568, "cpa": 296.98},
        {"day": date(2026, 12, 2), "category": "salud", "impressions": 0, "reach": 0, "engagements": None,
         "clicks": 0, "spend": 0.0, "applications": 0, "ctr": None, "cpc": None, "cpa": None},
    ],
    "totals": {"impressions": 12000, "reach": 9000, "engagements": None, "clicks": 160, "spend": 890.95,
               "applications": 3, "ctr": 0.013333, "cpc": 5.568, "cpa": 296.98},
}  # fmt: skip


def test_excel_style_is_colombian_spanish():
    text = report_csv(REPORT)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Día", "Categoría", "Impresiones", "Alcance"]
    assert rows[1][:2] == ["01/12/2026", "Logística y transporte"]
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Inversión (COP)"] == "891" and first["CPA (COP)"] == "297"  # whole pesos
    assert first["CTR (%)"] == "1,33"  # decimal comma, as a percentage
    empty = dict(zip(header, rows[2], strict=True))
    assert empty["CPA (COP)"] == "" and empty["CTR (%)"] == ""  # no applications: no CPA
    assert rows[-1][0] == "TOTAL" and len(rows) == 4


def test_english_headers_on_request():
    rows = list(csv.reader(io.StringIO(report_csv(REPORT, language="en").lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Day", "Category", "Impressions"]


def test_plain_style_is_for_scripts():
    text = report_csv(REPORT, style="plain")
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["day", "category", "impressions"]
    assert rows[1][:2] == ["2026-12-01", "logistica_transporte"]
    assert dict(zip(rows[0], rows[1], strict=True))["spend"] == "890.95"
