"""The campaign page's round trips: six statements for a campaign with metrics and no allocation log
(the signed-in user; the campaign with its job, segments, switch, last run, newest day and log;
its platform campaigns with ad groups and creatives; the chart's days; spend control's sums; the
menu's open alerts), on an autocommit connection (no BEGIN or ROLLBACK around them)."""

from __future__ import annotations

from datetime import timedelta

from adflux.services import campaigns as campaigns_service
from adflux.services import local_dates
from factories import make_job
from web.conftest import add_metrics


def test_the_campaign_page_reads_in_six_statements(app, viewer, statements):
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta", "google"], budget_total=9_000_000,
            start_date=local_dates.today() - timedelta(days=40),
        )  # fmt: skip
        campaign_id = campaign.id
        add_metrics(campaign_id, days=30)
    assert viewer.get(f"/campaigns/{campaign_id}").status_code == 200  # (templates compiled)
    statements.clear()
    page = viewer.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200 and "Control del gasto" in page.get_data(as_text=True)
    tables = ["users", "campaigns", "platform_campaigns", "campaign_metrics_daily", "sum(", "alerts"]
    assert len(statements) == len(tables), statements
    for statement, table in zip(statements, tables, strict=True):
        assert table in statement, (table, statement[:200])
    assert not any("allocation_entries.id, allocation_entries.campaign_id" in s for s in statements)
