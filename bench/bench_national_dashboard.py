"""The dashboard paths issue 25 item 2 found over 100 ms, the old way and the new alternated every round.

Reads the national set (`bench/national_set.py`, kept between runs) through the Flask test client,
signed in through the login form as `bench_national_pages.py` is. Each round requests every path
twice, in turn the old way and as deployed (the old way switched on in-process around its request):

- `/campaigns?q=campaña 77`: old, the three texts folded on every row (`text_matches`); new, the
  folded `campaigns.search_text` (trigram GIN index).
- `/campaigns/<id>` (a year on 3 platforms): old, 365 days a point a day; new, the latest 90 days
  by day. `/campaigns/<id>?period=all` (the whole year by week) is timed as deployed only.
- `/audit?page=2000`: old, OFFSET 49,975 full rows; new, the page's first keys by the (at, id)
  index, then the page from there (both on the new index: the old one is gone from the set).
- `/feedback` (an admin's: suggestions and the weekly report): old, the week summed from every
  campaign's rollup rows; new, from the day totals.

Checked every round: both ways answer 200, and for the search and the audit page the same table rows.

Usage:
    PYTHONPATH=src .venv/bin/python bench/bench_national_dashboard.py [--database adflux_national]
        [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_national_pages
import bench_pages
from sqlalchemy import func, select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Campaign as CampaignModel
from adflux.models import CampaignMetricDaily, JobOpening
from adflux.services import pagination, weekly_report
from adflux.services.campaigns import listing
from adflux.services.text_search import text_matches
from adflux.settings import Settings
from adflux.web.views import campaigns as campaign_views

percentile = bench_national_pages.percentile


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    kept = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, kept)


def old_search(q: str, dialect: str) -> Any:
    return text_matches((CampaignModel.name, JobOpening.title, JobOpening.company), q)


@contextmanager
def old_week_sums() -> Iterator[None]:
    """weekly_report summing every campaign's rollup rows of the week, as before."""
    real = weekly_report.DailyMetricTotal
    weekly_report.DailyMetricTotal = CampaignMetricDaily  # type: ignore[misc]
    try:
        yield
    finally:
        weekly_report.DailyMetricTotal = real  # type: ignore[misc]


def cases(campaign_id: int) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("/campaigns?q=campa%C3%B1a+77", lambda: patched(listing, "_search", old_search)),
        (f"/campaigns/{campaign_id}", lambda: patched(campaign_views, "CAMPAIGN_CHART_DAYS", 365)),
        ("/audit?page=2000", lambda: patched(pagination, "SEEK_FROM", 10**12)),
        ("/feedback", old_week_sums),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="adflux_national")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    settings = Settings.from_env(
        {}, env="testing", instance_path="/tmp", metrics_enabled=False,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}",
    )  # fmt: skip
    app = create_app(settings)
    with app.app_context():
        print(f"rows: {bench_national_pages.row_counts()}", flush=True)
        bench_national_pages.signed_in_user()
        campaign_id = db.session.scalar(select(func.max(CampaignMetricDaily.campaign_id)))
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"email": bench_national_pages.EMAIL, "password": bench_pages.PASSWORD, "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 302

    def get(path: str) -> tuple[float, str]:
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (path, response.status_code)
        return elapsed, response.get_data(as_text=True)

    def rows(html: str) -> list[str]:
        return re.findall(r"<tbody>.*?</tbody>", html, re.S)

    timed = cases(campaign_id)
    extra = [f"/campaigns/{campaign_id}?period=all"]
    samples: dict[str, list[float]] = {f"{p} {way}": [] for p, _ in timed for way in ("old", "new")}
    samples.update({p: [] for p in extra})
    loads: list[float] = []
    for path, old in timed:  # untimed once each way: templates compiled, caches warm
        with old():
            get(path)
        get(path)
    for _ in range(args.rounds):
        for path, old in timed:
            with old():
                before, old_html = get(path)
            after, new_html = get(path)
            samples[f"{path} old"].append(before)
            samples[f"{path} new"].append(after)
            if "q=" in path or "audit" in path:
                assert rows(old_html) == rows(new_html) and rows(new_html), path
        for path in extra:
            samples[path].append(get(path)[0])
        loads.append(os.getloadavg()[0])
    load = os.getloadavg()
    during = f"median {statistics.median(loads):.2f} (min {min(loads):.2f}, max {max(loads):.2f})"
    print(f"\n{args.rounds} rounds; load average during: {during}; at the end {load[0]:.2f} / {load[1]:.2f}")
    for path, _ in timed:
        old_values, new_values = samples[f"{path} old"], samples[f"{path} new"]
        o50, o95 = statistics.median(old_values) * 1000, percentile(old_values, 0.95) * 1000
        n50, n95 = statistics.median(new_values) * 1000, percentile(new_values, 0.95) * 1000
        print(f"  {path:<40} old p50 {o50:7.1f} p95 {o95:7.1f} | new p50 {n50:6.1f} p95 {n95:6.1f} ms"
              f" | same-run ratio (p50) {o50 / n50:5.1f}x")  # fmt: skip
    for path in extra:
        values = samples[path]
        p50, p95 = statistics.median(values) * 1000, percentile(values, 0.95) * 1000
        print(f"  {path:<40} as deployed p50 {p50:6.1f} p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
