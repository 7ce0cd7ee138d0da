"""Reports at national scale: paged performance reports, the campaign x segment rollup, the
first-hand report's default window and pages, and deep page numbers answered with the cursor."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import event, func, select

from adflux.extensions import db
from adflux.models import CampaignMetricDaily, CampaignSegmentMetricDaily, MetricDaily
from adflux.services import local_dates, metrics_store, metrics_sync, report_exports, reports
from adflux.services.weekly_report import week_bounds
from factories import make_candidate, make_job, make_segments


def _published_campaign(client, platforms=("meta", "google"), segments=()):
    body = {
        "job_id": make_job().id,
        "platforms": list(platforms),
        "budget_total": 6_000_000,
        "budget_daily": 200_000,
        "segment_ids": [s.id for s in segments],
    }
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code in (200, 202)
    return campaign


def _three_campaigns_synced(client, sandbox):
    segments = make_segments(2)
    campaigns = [
        _published_campaign(client, segments=segments),
        _published_campaign(client, platforms=("meta", "tiktok"), segments=segments[:1]),
        _published_campaign(client, platforms=("google",)),  # the broad audience: no segment
    ]
    until = sandbox.advance_days(6)
    metrics_sync.sync_metrics(until=until)
    return campaigns, until


def _raw_by_campaign_segment_day() -> dict[tuple, tuple[int, int]]:
    segment = func.coalesce(MetricDaily.segment_id, 0)
    rows = db.session.execute(
        select(
            MetricDaily.campaign_id,
            segment,
            MetricDaily.date,
            func.sum(MetricDaily.clicks),
            func.sum(MetricDaily.spend_micros),
        ).group_by(MetricDaily.campaign_id, segment, MetricDaily.date)
    )
    return {(c, s, d): (int(k), int(m)) for c, s, d, k, m in rows}


def _rollup() -> dict[tuple, tuple[int, int]]:
    return {
        (r.campaign_id, r.segment_key, r.date): (r.clicks, r.spend_micros)
        for r in db.session.scalars(select(CampaignSegmentMetricDaily))
    }


def test_the_campaign_segment_rollup_follows_the_raw_rows_and_counts_nothing_twice(client, app_ctx, sandbox):
    _three_campaigns_synced(client, sandbox)
    raw = _raw_by_campaign_segment_day()
    assert raw and {s for _, s, _ in raw} >= {0}  # the broad audience is there, as key 0
    assert _rollup() == raw
    clicks = sum(k for k, _ in raw.values())

    metrics_sync.sync_metrics(until=sandbox.state.today)  # the same days again
    assert _rollup() == _raw_by_campaign_segment_day()
    assert sum(k for k, _ in _rollup().values()) == clicks

    # A restatement: the platform revises some days' figures; the rollup follows, nothing doubles.
    restated = db.session.scalars(
        select(MetricDaily).order_by(MetricDaily.ad_group_id, MetricDaily.date)
    ).all()
    revised = [
        {c: getattr(row, c) for c in metrics_store.ROW_COLUMNS} | {"clicks": row.clicks + 7}
        for row in restated[::3]
    ]
    metrics_store.upsert_metrics(revised)
    db.session.commit()
    assert _rollup() == _raw_by_campaign_segment_day()
    assert sum(k for k, _ in _rollup().values()) == clicks + 7 * len(revised)

    metrics_store.rebuild_all_rollups()
    db.session.commit()
    assert _rollup() == _raw_by_campaign_segment_day()


def _walk(client, query: str, limit: int) -> tuple[list[dict], list[dict]]:
    """Every page of a report through the API: (all rows, each page's body)."""
    rows, pages, cursor = [], [], None
    while True:
        url = f"/api/v1/reports/performance?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append(body)
        rows += body["rows"]
        assert len(body["rows"]) <= limit
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return rows, pages
        cursor = body["next_cursor"]


def test_paged_reports_give_every_row_once_with_the_whole_reports_totals(client, app_ctx, sandbox):
    campaigns, until = _three_campaigns_synced(client, sandbox)
    since = until - timedelta(days=29)
    raw = db.session.scalars(select(MetricDaily).where(MetricDaily.date.between(since, until))).all()
    keys = {
        "campaign": lambda r: r.campaign_id,
        "segment": lambda r: r.segment_id,
        "day": lambda r: r.date.isoformat(),
        "platform": lambda r: r.platform,
    }
    shapes = [
        ("campaign", ""),
        ("segment,campaign", ""),
        ("campaign,day", ""),
        ("day,segment", f"&campaign_id={campaigns[0]['id']}"),
        ("segment,platform,campaign", ""),
    ]
    for group_by, extra in shapes:
        dims = group_by.split(",")
        chosen = [r for r in raw if not extra or r.campaign_id == campaigns[0]["id"]]
        expected = Counter()
        for row in chosen:
            expected[tuple(keys[d](row) for d in dims)] += row.clicks
        walked, pages = _walk(client, f"group_by={group_by}&until={until}{extra}", limit=2)
        assert len(pages) == -(-len(expected) // 2)  # ceil: pages of two, the last may hold one
        got = Counter()
        for row in walked:
            key = tuple(row[d] for d in dims)
            assert key not in got, f"{group_by}: {key} twice"
            got[key] = row["clicks"]
        assert got == expected, group_by
        ordered = sorted(dims, key=lambda d: d != "campaign")  # campaign first, then as asked
        order = [tuple((row[d] or 0) if d == "segment" else row[d] for d in ordered) for row in walked]
        assert order == sorted(order)  # the broad audience (segment 0) first among segments
        whole = client.get(f"/api/v1/reports/performance?group_by={group_by}&until={until}{extra}&limit=1000")
        assert whole.get_json()["rows"] == walked
        for page in pages:
            assert page["totals"] == whole.get_json()["totals"]
            assert page["totals"]["clicks"] == sum(r.clicks for r in chosen)


def test_segments_by_campaign_read_the_campaign_segment_rollup(client, app_ctx, sandbox):
    campaigns, until = _three_campaigns_synced(client, sandbox)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        by_campaign = reports.performance_report(group_by=["segment", "campaign"], until=until, limit=1)
        one = reports.performance_report(
            group_by=["day", "segment"], until=until, campaign_id=campaigns[0]["id"]
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    reads = [s for s in statements if "metrics_daily" in s]
    assert reads and all("campaign_segment_metrics_daily" in s or "daily_metric_totals" in s for s in reads)
    raw_clicks = db.session.scalar(select(func.sum(MetricDaily.clicks)).where(MetricDaily.date <= until))
    assert by_campaign["totals"]["clicks"] == raw_clicks and by_campaign["has_more"]
    assert one["totals"]["clicks"] == db.session.scalar(
        select(func.sum(MetricDaily.clicks)).where(MetricDaily.campaign_id == campaigns[0]["id"])
    )


def test_the_csv_export_streams_every_page(client, app_ctx, sandbox, monkeypatch):
    _three_campaigns_synced(client, sandbox)
    until = sandbox.state.today
    monkeypatch.setattr(report_exports, "EXPORT_PAGE", 2)  # many pages from a small set
    whole = reports.performance_report(group_by=["campaign", "day"], until=until)
    response = client.get(f"/api/v1/reports/performance.csv?group_by=campaign,day&until={until}&style=plain")
    lines = response.get_data(as_text=True).strip().splitlines()
    assert len(whole["rows"]) > 4 and len(lines) == len(whole["rows"]) + 2
    assert [int(line.split(",")[0]) for line in lines[1:-1]] == [r["campaign"] for r in whole["rows"]]
    assert lines[-1].startswith("TOTAL,,,") and f",{whole['totals']['clicks']}," in lines[-1]


def test_bad_pages_are_refused_with_a_message(client, app_ctx):
    for query in ("cursor=not-a-cursor", "limit=0", "limit=1001", "cursor=WzFd"):  # WzFd: [1], one value
        response = client.get(f"/api/v1/reports/performance?group_by=campaign,day&{query}")
        assert response.status_code == 422, query
        assert response.get_json()["message"]
    assert client.get("/api/v1/tracking/report?limit=0").status_code == 422


def test_the_first_hand_report_defaults_to_30_days_and_pages_by_campaign(client, app_ctx, sandbox):
    campaigns, until = _three_campaigns_synced(client, sandbox)
    body = client.get("/api/v1/tracking/report").get_json()
    today = local_dates.today()
    assert (body["since"], body["until"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    since = until - timedelta(days=3)
    rows, after, pages = [], None, 0
    while True:
        url = f"/api/v1/tracking/report?since={since}&until={until}&limit=1" + (
            f"&after={after}" if after else ""
        )
        page = client.get(url).get_json()
        pages += 1
        rows += page["rows"]
        assert len({r["campaign_id"] for r in page["rows"]}) <= 1
        after = page["next_after"]
        if after is None:
            break
    assert pages == 3
    whole = client.get(f"/api/v1/tracking/report?since={since}&until={until}&limit=1000").get_json()
    assert rows == whole["rows"]
    expected = Counter()
    for row in db.session.scalars(select(CampaignMetricDaily).where(CampaignMetricDaily.date >= since)):
        expected[(row.campaign_id, row.platform)] += row.clicks
    assert {(r["campaign_id"], r["platform"]): r["clicks"] for r in rows} == expected
    assert {r["campaign_id"] for r in rows} == {c["id"] for c in campaigns}


def test_the_weekly_report_sums_the_same_spend_as_the_campaign_rollup(client, app_ctx, sandbox):
    _three_campaigns_synced(client, sandbox)
    monday, sunday = week_bounds(sandbox.state.today)
    body = client.get(f"/api/v1/reports/weekly?week_of={monday}").get_json()
    micros = db.session.scalar(
        select(func.coalesce(func.sum(CampaignMetricDaily.spend_micros), 0)).where(
            CampaignMetricDaily.date.between(monday, sunday)
        )
    )
    assert micros > 0 and body["spend"] == round(micros / 1_000_000)


def test_deep_page_numbers_point_to_the_cursor(client, app_ctx):
    for n in range(3):
        make_candidate(external_ref=f"deep-{n}")
    db.session.commit()
    assert client.get("/api/v1/candidates?page=500&page_size=20").status_code == 200
    deep = client.get("/api/v1/candidates?page=501&page_size=20")
    assert deep.status_code == 400 and "cursor" in deep.get_json()["message"]
    assert client.get("/api/v1/audit-events?page=101&page_size=100").status_code == 400
    first = client.get("/api/v1/candidates?page_size=2").get_json()
    by_cursor = client.get(f"/api/v1/candidates?page=5000&page_size=2&cursor={first['next_cursor']}")
    assert by_cursor.status_code == 200 and len(by_cursor.get_json()["items"]) == 1
