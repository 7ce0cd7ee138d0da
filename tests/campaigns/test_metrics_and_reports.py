"""Metrics sync from the platforms and the performance reports built on it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import CampaignMetricDaily, DailyMetricTotal, MetricDaily
from adflux.services import metrics_sync, reports
from factories import make_job, make_segments, slow_dump


def _published_campaign(client, platforms=("meta", "google"), segments=None):
    job = make_job()
    segments = segments if segments is not None else make_segments(2)
    body = {
        "job_id": job.id,
        "platforms": list(platforms),
        "budget_total": 6_000_000,
        "budget_daily": 200_000,
        "segment_ids": [s.id for s in segments],
    }
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    return campaign


def _sum(model, column):
    return db.session.scalar(select(func.coalesce(func.sum(getattr(model, column)), 0)))


def test_sync_stores_one_row_per_ad_group_and_day_and_never_duplicates(client, app_ctx, sandbox):
    campaign = _published_campaign(client)
    until = sandbox.advance_days(14)
    first = metrics_sync.sync_metrics(until=until)
    assert first.failed_platforms == [] and first.rows > 0
    rows = db.session.scalar(select(func.count()).select_from(MetricDaily))
    days = db.session.scalar(select(func.count(MetricDaily.date.distinct())))
    assert rows == 2 * 2 * days  # 2 platforms x 2 segments (ad groups) x days
    assert days >= 14
    again = metrics_sync.sync_metrics(until=until)
    assert again.rows > 0
    assert db.session.scalar(select(func.count()).select_from(MetricDaily)) == rows
    # Rollups agree with the raw rows.
    for column in ("impressions", "clicks", "spend_micros", "applications"):
        assert (
            _sum(CampaignMetricDaily, column) == _sum(MetricDaily, column) == _sum(DailyMetricTotal, column)
        )
    raw = db.session.scalars(select(MetricDaily)).all()
    assert all(r.impressions >= r.clicks >= 0 and r.campaign_id == campaign["id"] for r in raw)
    assert sum(r.spend_micros for r in raw) > 0


def test_a_failing_platform_is_recorded_and_does_not_hold_back_the_others(client, app_ctx, sandbox):
    _published_campaign(client)
    until = sandbox.advance_days(5)
    sandbox.expire_tokens("google")
    result = metrics_sync.sync_metrics(until=until)
    assert result.failed_platforms == ["google"]
    assert "Auth" in result.platforms["google"]["error"]
    platforms = set(db.session.scalars(select(MetricDaily.platform).distinct()))
    assert platforms == {"meta"}


def test_report_groups_and_derives_ratios_from_sums(client, app_ctx, sandbox):
    campaign = _published_campaign(client)
    until = sandbox.advance_days(10)
    metrics_sync.sync_metrics(until=until)
    report = reports.performance_report(group_by=["platform", "segment"], until=until)
    assert {r["platform"] for r in report["rows"]} == {"meta", "google"}
    for row in report["rows"]:
        assert row["segment_name"].startswith("Segmento")
        if row["impressions"]:
            assert abs(row["ctr"] - row["clicks"] / row["impressions"]) < 1e-12
        if row["applications"]:
            assert abs(row["cpa"] - row["spend_micros"] / 1e6 / row["applications"]) < 0.01
        else:
            assert row["cpa"] is None
    totals = report["totals"]
    assert totals["clicks"] == sum(r["clicks"] for r in report["rows"])
    by_day = reports.performance_report(group_by=["day"], until=until, campaign_id=campaign["id"])
    assert by_day["totals"]["spend_micros"] == totals["spend_micros"]
    by_category = reports.performance_report(group_by=["category"], until=until)
    assert by_category["rows"][0]["category"] == "tecnologia"


def test_zero_denominators_give_none_not_errors():
    derived = reports.derive({"impressions": 0, "clicks": 0, "spend_micros": 0, "applications": 0})
    assert derived["ctr"] is None and derived["cpc"] is None and derived["cpa"] is None
    spent = reports.derive({"impressions": 100, "clicks": 0, "spend_micros": 5_000_000, "applications": 0})
    assert spent["spend"] == 5.0 and spent["cpc"] is None and spent["ctr"] == 0.0


def test_report_api_csv_segments_and_overview(client, app_ctx, sandbox):
    campaign = _published_campaign(client)
    until = sandbox.advance_days(7).isoformat()
    sync = client.post("/api/v1/reports/sync")
    assert sync.status_code == 202
    # The API sync uses today's date; also sync up to the sandbox clock for the rest of the test.
    metrics_sync.sync_metrics(until=sandbox.state.today)
    report = client.get(f"/api/v1/reports/performance?group_by=campaign,platform&until={until}").get_json()
    assert report["rows"][0]["campaign_name"] == campaign["name"]
    plain = client.get(f"/api/v1/reports/performance.csv?group_by=platform&until={until}&style=plain")
    assert plain.mimetype == "text/csv"
    lines = plain.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("platform,impressions") and lines[-1].startswith("TOTAL")
    excel = client.get(f"/api/v1/reports/performance.csv?group_by=platform&until={until}").get_data()
    assert excel.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 (accents) only with a BOM
    excel_lines = excel.decode("utf-8-sig").strip().splitlines()
    assert excel_lines[0].startswith("Plataforma;Impresiones;Alcance")
    assert {line.split(";")[0] for line in excel_lines[1:-1]} == {"Meta", "Google Ads"}
    assert excel_lines[-1].startswith("TOTAL;")
    assert len(excel_lines) == len(lines)
    segments = client.get(f"/api/v1/reports/segments?until={until}").get_json()
    cpas = [r["cpa"] for r in segments["rows"] if r["cpa"] is not None]
    assert cpas == sorted(cpas) and segments["rows"][0]["rank"] == 1
    overview = client.get(f"/api/v1/reports/overview?until={until}").get_json()
    assert overview["totals"]["impressions"] == report["totals"]["impressions"]
    daily = client.get(f"/api/v1/reports/campaigns/{campaign['id']}/daily?until={until}").get_json()
    assert set(daily["series"]) == {"meta", "google"}
    assert client.get("/api/v1/reports/performance?group_by=galaxy").status_code == 422
    assert client.get("/api/v1/reports/performance?since=2030-01-02&until=2030-01-01").status_code == 422
    assert client.get("/api/v1/reports/campaigns/999/platforms").status_code == 404


def test_reports_over_every_campaign_read_the_day_totals_and_match_the_raw_rows(client, app_ctx, sandbox):
    from sqlalchemy import event

    segments = make_segments(2)
    first = _published_campaign(client, segments=segments)
    _published_campaign(client, platforms=("meta", "tiktok"), segments=segments)
    until = sandbox.advance_days(6)
    metrics_sync.sync_metrics(until=until)
    raw = db.session.scalars(select(MetricDaily)).all()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    keys = {"platform": lambda r: r.platform, "day": lambda r: r.date}
    for group_by in (["platform"], ["day"], ["day", "platform"], []):
        expected: dict[tuple, dict[str, int]] = {}
        for row in raw:
            key = tuple(keys[d](row) for d in group_by)
            sums = expected.setdefault(key, dict.fromkeys(reports.COUNTS, 0))
            for column in reports.COUNTS:
                sums[column] += getattr(row, column) or 0
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            report = reports.performance_report(group_by=group_by, until=until)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(statements) == 1 and "daily_metric_totals" in statements[0]
        got = {tuple(r[d] for d in group_by): {c: r[c] or 0 for c in reports.COUNTS} for r in report["rows"]}
        assert got == expected
    # One campaign, or a category, still reads the per-campaign rollup and gives that campaign's sums.
    own = reports.performance_report(group_by=["platform"], until=until, campaign_id=first["id"])
    assert {r["platform"] for r in own["rows"]} == {"meta", "google"}
    assert own["totals"]["clicks"] == sum(r.clicks for r in raw if r.campaign_id == first["id"])


def _day_totals_match_rollups() -> bool:
    from adflux.models import CampaignMetricDaily, DailyMetricTotal

    totals = {(t.date, t.platform): t.clicks for t in db.session.scalars(select(DailyMetricTotal))}
    expected: dict[tuple, int] = {}
    for row in db.session.scalars(select(CampaignMetricDaily)):
        expected[(row.date, row.platform)] = expected.get((row.date, row.platform), 0) + row.clicks
    return bool(expected) and totals == expected


def test_a_sync_refreshes_the_day_totals_once_and_the_next_one_heals_a_crash(
    client, app_ctx, sandbox, monkeypatch
):
    from sqlalchemy import event

    from adflux.services import metrics_store

    segments = make_segments(2)
    _published_campaign(client, segments=segments)
    _published_campaign(client, platforms=("meta", "tiktok"), segments=segments)
    until = sandbox.advance_days(6)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("DELETE FROM DAILY_METRIC_TOTALS"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        metrics_sync.sync_metrics(until=until)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1  # four platform campaigns, one refresh of the totals
    assert _day_totals_match_rollups()

    # A sync that dies before its last step leaves the totals behind the rollups...
    until = sandbox.advance_days(2)

    def crash(days):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker lost")

    monkeypatch.setattr(metrics_sync, "refresh_day_totals", crash)
    with pytest.raises(RuntimeError):
        metrics_sync.sync_metrics(until=until)
    db.session.rollback()
    assert not _day_totals_match_rollups()
    # ...and the next sync, whose window reads those days again unchanged, puts them right.
    monkeypatch.setattr(metrics_sync, "refresh_day_totals", metrics_store.refresh_day_totals)
    metrics_sync.sync_metrics(until=until)
    assert _day_totals_match_rollups()


def test_reports_dump_the_same_either_way(client, app_ctx, sandbox):
    from adflux.schemas.reports import OverviewSchema, ReportSchema
    from adflux.services import metrics_sync, reports

    segments = make_segments(2)
    body = {"job_id": make_job().id, "platforms": ["meta", "google"], "budget_total": 6_000_000}
    campaign = client.post("/api/v1/campaigns", json={**body, "segment_ids": [s.id for s in segments]})
    client.post(f"/api/v1/campaigns/{campaign.get_json()['id']}/publish")
    until = sandbox.advance_days(5)
    metrics_sync.sync_metrics(until=until)
    for group_by in (["platform"], ["campaign", "segment"], ["day", "category"]):
        report = reports.performance_report(group_by=group_by, until=until)
        assert report["rows"]
        fast = ReportSchema().dump(report)
        assert fast == slow_dump(ReportSchema(), report)
        assert [list(row) for row in fast["rows"]] == [
            list(row) for row in slow_dump(ReportSchema(), report)["rows"]
        ]
    overview = reports.overview(until=until)
    assert OverviewSchema().dump(overview) == slow_dump(OverviewSchema(), overview)
    assert ReportSchema()._fast_plan_or_none() is not None  # the report takes the fast path


def test_top_campaigns_are_ranked_in_the_database_like_the_full_report(client, app_ctx, sandbox):
    segments = make_segments(2)
    ids = [_published_campaign(client, segments=segments)["id"] for _ in range(3)]
    until = sandbox.advance_days(5)
    metrics_sync.sync_metrics(until=until)
    full = reports.performance_report(group_by=["campaign"], until=until)["rows"]
    expected = sorted(full, key=lambda r: (-r["spend_micros"], r["campaign"]))[:2]
    top = reports.top_campaigns(until=until, limit=2)
    assert [r["campaign"] for r in top] == [r["campaign"] for r in expected]
    assert [r["spend"] for r in top] == [r["spend"] for r in expected]
    assert all(r["campaign_name"] for r in top) and {r["campaign"] for r in top} <= set(ids)


def test_segment_reports_read_the_segment_totals_and_match_the_raw_rows(client, app_ctx, sandbox):
    from sqlalchemy import event

    segments = make_segments(2)
    _published_campaign(client, segments=segments)
    _published_campaign(client, platforms=("meta", "tiktok"), segments=segments[:1])
    until = sandbox.advance_days(6)
    metrics_sync.sync_metrics(until=until)
    raw = db.session.scalars(select(MetricDaily)).all()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    keys = {"segment": lambda r: r.segment_id, "platform": lambda r: r.platform, "day": lambda r: r.date}
    for group_by in (["segment"], ["segment", "platform"], ["day", "segment"]):
        expected: dict[tuple, int] = {}
        for row in raw:
            key = tuple(keys[d](row) for d in group_by)
            expected[key] = expected.get(key, 0) + row.clicks
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            report = reports.performance_report(group_by=group_by, until=until)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert "segment_metrics_daily" in statements[0] and "metrics_daily m" not in statements[0]
        assert {tuple(r[d] for d in group_by): r["clicks"] for r in report["rows"]} == expected
    one = reports.performance_report(group_by=["platform"], until=until, segment_id=segments[0].id)
    assert one["totals"]["clicks"] == sum(r.clicks for r in raw if r.segment_id == segments[0].id)
    by_campaign = reports.performance_report(group_by=["campaign", "segment"], until=until)
    assert by_campaign["totals"]["clicks"] == sum(r.clicks for r in raw)  # raw rows still answer this


def test_the_ranking_is_kept_until_the_next_sync_rewrites_the_day_totals(client, app_ctx, sandbox):
    from sqlalchemy import event

    segments = make_segments(1)
    _published_campaign(client, segments=segments)
    until = sandbox.advance_days(3)
    metrics_sync.sync_metrics(until=until)
    first = reports.top_campaigns(until=until)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        again = reports.top_campaigns(until=until)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert again == first
    assert not any("GROUP BY" in s and "campaign_metrics_daily" in s for s in statements)  # kept
    spent_before = first[0]["spend"]
    until = sandbox.advance_days(2)
    metrics_sync.sync_metrics(until=until)
    assert reports.top_campaigns(until=until)[0]["spend"] > spent_before  # a sync: ranked again


def test_the_overview_windows_are_ranked_once_per_sync_and_read_by_every_process(client, app_ctx, sandbox):
    from datetime import timedelta

    from sqlalchemy import event

    from adflux.models import CampaignRanking
    from adflux.services import campaign_rankings
    from adflux.web.views import overview

    segments = make_segments(2)
    for platforms in (("meta", "google"), ("meta", "tiktok"), ("google",)):
        _published_campaign(client, platforms=platforms, segments=segments)
    metrics_sync.sync_metrics(until=sandbox.advance_days(5))
    until = overview.last_day()  # the day the overview's windows end on
    assert campaign_rankings.last_day() == until
    windows = {(r.since, r.until) for r in db.session.scalars(select(CampaignRanking))}
    assert windows == {(until - timedelta(days=days - 1), until) for days in (7, 30, 90)}
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def ranked_here() -> bool:
        return any("GROUP BY" in s and "campaign_metrics_daily" in s for s in statements)

    reports._RANKINGS.clear()  # a web process that has ranked nothing yet
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        top = reports.top_campaigns(until=until, limit=2)
        assert not ranked_here()  # read from what the sync stored
        odd = reports.top_campaigns(since=until - timedelta(days=3), until=until, limit=2)
        assert ranked_here()  # not a preset window: ranked when asked
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    for days, got in ((30, top), (4, odd)):
        since = until - timedelta(days=days - 1)
        full = reports.performance_report(group_by=["campaign"], since=since, until=until)["rows"]
        expected = sorted(full, key=lambda r: (-r["spend_micros"], r["campaign"]))[:2]
        assert [(r["campaign"], r["spend"], r["clicks"]) for r in got] == [
            (r["campaign"], r["spend"], r["clicks"]) for r in expected
        ]
        assert all(r["campaign_name"] for r in got)
    spent_before = top[0]["spend"]
    metrics_sync.sync_metrics(until=sandbox.advance_days(2))
    until = overview.last_day()  # the next sync stores the windows ending on its last day
    assert {r.until for r in db.session.scalars(select(CampaignRanking))} == {until}
    reports._RANKINGS.clear()
    assert reports.top_campaigns(until=until)[0]["spend"] > spent_before


def test_each_campaigns_totals_follow_its_rollup_and_order_the_list_by_spend(client, app_ctx, sandbox):
    from adflux.models import CampaignMetricTotal

    segments = make_segments(2)
    first = _published_campaign(client, segments=segments)
    second = _published_campaign(client, platforms=("meta", "tiktok"), segments=segments)
    until = sandbox.advance_days(6)
    metrics_sync.sync_metrics(until=until)
    metrics_sync.sync_metrics(until=sandbox.advance_days(3))  # restated days: the totals follow

    totals = {t.campaign_id: t for t in db.session.scalars(select(CampaignMetricTotal))}
    assert set(totals) == {first["id"], second["id"]}
    for campaign_id, total in totals.items():
        for column in ("impressions", "clicks", "spend_micros", "applications"):
            own = select(func.sum(getattr(CampaignMetricDaily, column))).where(
                CampaignMetricDaily.campaign_id == campaign_id
            )
            assert getattr(total, column) == db.session.scalar(own) > 0
    listed = client.get("/api/v1/campaigns?sort=spend").get_json()["items"]
    by_spend = sorted(totals, key=lambda c: totals[c].spend_micros, reverse=True)
    assert [c["id"] for c in listed] == by_spend
    rising = client.get("/api/v1/campaigns?sort=spend&descending=false").get_json()["items"]
    assert [c["id"] for c in rising] == by_spend[::-1]  # the API's order is the one asked for
    refused = client.get("/api/v1/campaigns?sort=popularity")
    assert refused.status_code == 422 and "sort" in refused.get_json()["errors"]
    from adflux.services.campaigns import listing

    for descending in (True, False):  # both ways, so the order cannot be the newest-first one by chance
        page = listing.list_campaigns(sort="spend", descending=descending)
        expected = by_spend if descending else by_spend[::-1]
        assert [c.id for c in page.items] == expected
        assert [c.spend for c in page.items] == [round(totals[c].spend_micros / 1_000_000) for c in expected]
