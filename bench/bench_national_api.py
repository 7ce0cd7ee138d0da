"""The API reports over the national set, the old way and the new, alternated every round.

Reads the database `bench/national_set.py` built (10,000 campaigns, ~100M metric rows; with the
campaign x segment rollup of migration 0031: `national_set.py --only campaign_segments`) and times
whole requests through the Flask test client with a bearer token. Each case runs its old code path
(restored for the request by swapping the function or table it used) and the new one back to back,
every round, so both see the same load:

- `/reports/performance?group_by=campaign`: old, every campaign's row in one answer; new, a page
  of 100 (limit, cursor) with the totals over every row read from the day totals.
- `/reports/performance?group_by=segment,campaign`: old, from the raw rows (metrics_daily); new, a
  page from the campaign x segment rollup.
- `/tracking/report` without dates: old, every campaign and platform over all history; new, the
  last 30 days, a page of 100 campaigns.
- `/reports/weekly`: old, the week's spend from the campaign rollup; new, from the day totals.
- `/candidates?page=5000` (OFFSET 99,980): old, answered by OFFSET; new, answered 400 pointing
  to the cursor, and the same rows by cursor timed instead.

Checked once, untimed: walking every page of the new campaign report gives as many rows as the old
answer and the same totals; the segment-by-campaign totals equal the old; the cursor page holds the
same candidates as the OFFSET page. Row counts are printed first.

Usage:
    PYTHONPATH=src .venv/bin/python bench/bench_national_api.py [--database adflux_national]
        [--rounds 20] [--slow-rounds 5] [--only REGEX]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national_pages

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import CampaignMetricDaily, MetricDaily
from adflux.schemas import common as common_schemas
from adflux.services import reports, weekly_report
from adflux.services.tracking import first_hand
from adflux.settings import Settings

API = "/api/v1"


@contextlib.contextmanager
def swapped(target: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def old_performance(**args: Any) -> dict[str, Any]:
    """The performance report before paging: every row in one answer."""
    args.pop("limit", None)
    args.pop("cursor", None)
    return NEW_PERFORMANCE(**args)


def old_source(dims: list[str], **filters: Any) -> Any:
    """The raw rows for segments by campaign, as before the campaign x segment rollup."""
    source = NEW_SOURCE(dims, **filters)
    return MetricDaily if source.__name__ == "CampaignSegmentMetricDaily" else source


def old_first_hand(**_args: Any) -> dict[str, Any]:
    """The first-hand report before the default window: all history, every campaign."""
    return NEW_FIRST_HAND()


NEW_PERFORMANCE = reports.performance_report
NEW_SOURCE = reports._source
NEW_FIRST_HAND = first_hand.first_hand_report


@contextlib.contextmanager
def old_report() -> Iterator[None]:
    with swapped(reports, "performance_report", old_performance):
        yield


@contextlib.contextmanager
def old_segments_by_campaign() -> Iterator[None]:
    with swapped(reports, "performance_report", old_performance), swapped(reports, "_source", old_source):
        reports._statement.cache_clear()
        yield
    reports._statement.cache_clear()


@contextlib.contextmanager
def old_tracking() -> Iterator[None]:
    with swapped(first_hand, "first_hand_report", old_first_hand):
        yield


@contextlib.contextmanager
def old_weekly() -> Iterator[None]:
    with swapped(weekly_report, "DailyMetricTotal", CampaignMetricDaily):
        yield


@contextlib.contextmanager
def deep_offsets() -> Iterator[None]:
    with swapped(common_schemas, "MAX_PAGE_ROWS", 10**9):
        yield


# (label, old path, how to run it the old way, new path, slow: fewer rounds)
CASES: list[tuple[str, str, Callable[[], Any], str, bool]] = [
    ("performance by campaign", "/reports/performance?group_by=campaign", old_report,
     "/reports/performance?group_by=campaign", False),
    ("performance by segment, campaign", "/reports/performance?group_by=segment,campaign",
     old_segments_by_campaign, "/reports/performance?group_by=segment,campaign", True),
    ("first-hand report, no dates", "/tracking/report", old_tracking, "/tracking/report", True),
    ("weekly report", "/reports/weekly", old_weekly, "/reports/weekly", False),
    ("candidates page 5,000", "/candidates?page=5000", deep_offsets, "/candidates?cursor={cursor}", False),
]  # fmt: skip


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="adflux_national")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--slow-rounds", type=int, default=5, help="rounds of the cases slow the old way")
    parser.add_argument("--only", help="run only the cases whose label matches this regular expression")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    settings = Settings.from_env(
        {}, env="testing", instance_path="/tmp", metrics_enabled=False,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}",
    )  # fmt: skip
    app = create_app(settings)
    with app.app_context():
        tables = ("campaigns", "metrics_daily", "campaign_metrics_daily", "campaign_segment_metrics_daily",
                  "daily_metric_totals", "candidates")  # fmt: skip
        counts = {t: db.session.scalar(db.text(f"SELECT count(*) FROM {t}")) for t in tables}
        print(f"rows: {counts}", flush=True)
        # A user of its own: the page bench's run by another session deletes its user's tokens.
        bench_national_pages.EMAIL = "bench-api@national.local"
        token = bench_national_pages.signed_in_user()
        db.session.remove()
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> tuple[float, Any, int]:
        start = time.perf_counter()
        response = client.get(API + path, headers=bearer)
        return time.perf_counter() - start, response.get_json(silent=True), response.status_code

    cursor = check(get)
    cases = [c for c in CASES if not args.only or re.search(args.only, c[0])]
    samples: dict[str, dict[str, list[float]]] = {c[0]: {"old": [], "new": []} for c in cases}
    loads: list[float] = []
    for n in range(args.rounds):
        for label, old_path, old_way, new_path, slow in cases:
            if slow and n >= args.slow_rounds:
                continue
            with old_way():
                elapsed, _, status = get(old_path)
            assert status == 200, (label, "old", status)
            samples[label]["old"].append(elapsed)
            elapsed, _, status = get(new_path.format(cursor=cursor))
            assert status == 200, (label, "new", status)
            samples[label]["new"].append(elapsed)
        loads.append(os.getloadavg()[0])
    load = os.getloadavg()
    print(f"\n{args.rounds} rounds ({args.slow_rounds} for the slow old ways); load average during "
          f"{min(loads):.2f}–{max(loads):.2f}, at the end {load[0]:.2f} / {load[1]:.2f}")  # fmt: skip
    for label, both in samples.items():
        old, new = both["old"], both["new"]
        ratio = statistics.median(old) / statistics.median(new)
        old_ms = f"{statistics.median(old) * 1000:8.1f} / {percentile(old, 0.95) * 1000:8.1f}"
        new_ms = f"{statistics.median(new) * 1000:6.1f} / {percentile(new, 0.95) * 1000:6.1f}"
        print(f"  {label:<34} old p50/p95 {old_ms}   new {new_ms} ms   same-run {ratio:6.1f}x  ({len(new)})")


def check(get: Callable[[str], tuple[float, Any, int]]) -> str:
    """Untimed: the new answers hold what the old ones did; returns the cursor of page 5,000."""
    with old_report():
        _, old, _ = get("/reports/performance?group_by=campaign")
    rows, cursor, pages = 0, None, 0
    while True:
        after = f"&cursor={cursor}" if cursor else ""
        _, page, status = get(f"/reports/performance?group_by=campaign&limit=1000{after}")
        assert status == 200 and page["totals"] == old["totals"], "paged totals differ"
        rows, pages, cursor = rows + len(page["rows"]), pages + 1, page["next_cursor"]
        if not page["has_more"]:
            break
    assert rows == len(old["rows"]), (rows, len(old["rows"]))
    print(f"checked: group_by=campaign, {rows:,} rows in {pages} pages of 1,000 = the old answer's "
          f"{len(old['rows']):,}; totals equal (clicks {old['totals']['clicks']:,})", flush=True)  # fmt: skip
    with old_segments_by_campaign():
        _, old_segments, _ = get("/reports/performance?group_by=segment,campaign")
    _, new_segments, _ = get("/reports/performance?group_by=segment,campaign")
    assert new_segments["totals"] == old_segments["totals"], "segment totals differ"
    old_rows = {(r["segment"], r["campaign"]): r for r in old_segments["rows"]}
    assert all(old_rows[(r["segment"], r["campaign"])] == r for r in new_segments["rows"])
    print(f"checked: group_by=segment,campaign totals equal (clicks {old_segments['totals']['clicks']:,}), "
          f"the first page's rows equal the old answer's ({len(old_segments['rows']):,} rows)")  # fmt: skip
    _, _, code = get("/candidates?page=5000")
    assert code == 400, code
    with deep_offsets():
        _, by_offset, _ = get("/candidates?page=4999")
    _, by_cursor, _ = get(f"/candidates?cursor={by_offset['next_cursor']}")
    with deep_offsets():
        _, page_5000, _ = get("/candidates?page=5000")
    assert by_cursor and [c["id"] for c in by_cursor["items"]] == [c["id"] for c in page_5000["items"]]
    print(
        "checked: /candidates?page=5000 answers 400; the cursor page holds the OFFSET page's 20 ids",
        flush=True,
    )
    return str(by_offset["next_cursor"])


if __name__ == "__main__":
    main()
