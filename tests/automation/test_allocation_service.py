"""Budget allocation end to end: a campaign published to the sandbox, its metrics synced, budgets moved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AdGroup, AllocationEntry, AuditEvent, OptimizationDecision
from adflux.services import local_dates, metrics_sync
from adflux.services.allocation import comparison, daily, settings
from adflux.services.rules import pacing
from factories import make_job
from sync_helpers import synced_campaign


def _budgets(campaign_id: int) -> dict[int, int]:
    rows = db.session.scalars(select(AllocationEntry).where(AllocationEntry.campaign_id == campaign_id))
    return {row.ad_group_id: row.budget_after for row in rows}


def test_allocation_is_off_until_a_manager_switches_it_on(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=5)
    campaign_id = campaign["id"]
    assert client.get(f"/api/v1/allocation/{campaign_id}").get_json()["enabled"] is False
    assert daily.allocate_campaign(campaign_id=campaign_id, today=today).skipped == "disabled"
    assert daily.run_daily(today=today) == {"campaigns": 0, "allocated": 0, "moves": 0}
    bad = client.put(f"/api/v1/allocation/{campaign_id}", json={"min_share": 0.9})
    assert bad.status_code == 422 and "min_share" in str(bad.get_json())
    assert client.put("/api/v1/allocation/999999", json={"enabled": True}).status_code == 404
    on = client.put(f"/api/v1/allocation/{campaign_id}", json={"enabled": True, "max_move": 0.3})
    assert on.status_code == 200 and on.get_json() == {
        "campaign_id": campaign_id,
        "enabled": True,
        "min_share": 0.02,
        "max_move": 0.3,
        "explore": 0.03,
    }
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "allocation.configure"))
    assert event is not None and event.after["enabled"] is True


def test_a_day_of_allocation_moves_budgets_on_the_platform_logs_propensities_and_runs_once(
    client, app_ctx, sandbox
):
    campaign, today = synced_campaign(client, sandbox, days=14)
    campaign_id = campaign["id"]
    settings.configure(campaign_id=campaign_id, enabled=True, max_move=0.3, explore=0.0)
    before = {g.id: g.budget_daily for g in db.session.scalars(select(AdGroup))}
    summary = daily.run_daily(today=today)
    assert summary["campaigns"] == 1 and summary["allocated"] == 1 and summary["moves"] >= 1
    entries = daily.log(campaign_id=campaign_id)
    assert len(entries) == 4  # every ad group logged, moved or not
    assert all(0 < e.propensity <= 1 and e.day == today for e in entries)
    pool = entries[0].pool
    assert sum(e.budget_after for e in entries) == pool or any(e.status == "unchanged" for e in entries)
    assert all(e.budget_after >= 0.02 * pool - 1 for e in entries)
    assert all(abs(e.budget_after - e.budget_before) <= 0.3 * pool + 1 for e in entries)
    moved = [e for e in entries if e.status == "applied"]
    assert moved and all(e.message and "/día, CPA $ " in e.message for e in moved)
    db.session.expire_all()
    for entry in moved:  # the platform path carried the new budget to the ad group
        assert (
            db.session.get(AdGroup, entry.ad_group_id).budget_daily
            == entry.budget_after
            != before[entry.ad_group_id]
        )
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "allocation.apply")) is not None
    # Once a day: running again the same day changes nothing and adds no rows.
    again = daily.allocate_campaign(campaign_id=campaign_id, today=today)
    assert again.skipped == "already_allocated" and len(again.entries) == 4
    assert len(_budgets(campaign_id)) == 4
    api = client.get(f"/api/v1/allocation/{campaign_id}/moves").get_json()
    assert len(api) == 4 and {"propensity", "share_level", "message", "evidence"} <= set(api[0])


def test_pacing_leaves_an_allocated_campaign_to_the_allocator(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=7)
    campaign_id = campaign["id"]
    pacing.configure_pacing(campaign_id=campaign_id, mode="even")
    settings.configure(campaign_id=campaign_id, enabled=True)
    assert pacing.apply_pacing(campaign_id=campaign_id, today=today) == []
    day = daily.allocate_campaign(campaign_id=campaign_id, today=today)
    plan = pacing.pacing_state(campaign_id=campaign_id, today=today).plan
    assert day.skipped is None and day.entries[0].pool == plan.daily_budget
    assert db.session.scalars(select(OptimizationDecision)).all() == []


def test_one_allocated_campaign_gets_point_estimates_and_says_why_there_is_no_interval(
    client, app_ctx, sandbox, monkeypatch
):
    campaign, today = synced_campaign(client, sandbox, days=7)
    campaign_id = campaign["id"]
    settings.configure(campaign_id=campaign_id, enabled=True, explore=0.1)
    for offset in range(5):
        day = today + timedelta(days=offset)
        assert daily.allocate_campaign(campaign_id=campaign_id, today=day).skipped is None
        until = sandbox.advance_days(1)
        metrics_sync.sync_metrics(until=until)
    result = comparison.compare_policies(campaign_id=campaign_id, today=today + timedelta(days=5))
    assert result.days == 5 and result.entries == 20
    assert result.campaigns == 1 and result.pooled_entries == 20 and not result.has_interval
    assert result.logged is not None and result.logged.value >= 0 and result.logged.low is None
    assert abs(result.campaign_logged - result.logged.value) < 1e-6  # alone, the campaign is the whole pool
    assert result.note is not None and "Solo 1 campaña" in result.note and "10" in result.note
    assert [p.policy for p in result.policies] == ["even", "weights", "frozen"]
    for estimate in result.policies:
        assert estimate.dr.low is None and estimate.dr.high is None and estimate.dr.value >= 0
        assert not estimate.dr.contains(estimate.dr.value)  # no interval: it contains nothing
        assert abs(estimate.campaign_dr - estimate.dr.value) < 1e-6 and estimate.ips.matched <= 20
    monkeypatch.setattr(local_dates, "today", lambda: today + timedelta(days=5))  # the sandbox's clock
    api = client.get(f"/api/v1/allocation/{campaign_id}/comparison")
    body = api.get_json()
    assert api.status_code == 200 and set(body) == {
        "campaign_id",
        "days",
        "entries",
        "campaigns",
        "pooled_entries",
        "logged",
        "campaign_logged",
        "policies",
        "has_interval",
        "note",
    }
    assert body["has_interval"] is False and body["logged"]["low"] is None and "campaña" in body["note"]
    english = client.get(f"/api/v1/allocation/{campaign_id}/comparison", headers={"Accept-Language": "en"})
    assert "Only 1 campaign has been allocated" in english.get_json()["note"]


def test_the_policy_comparison_pools_the_allocated_campaigns_and_resamples_whole_campaigns(
    client, app_ctx, sandbox, monkeypatch
):
    ids = []
    for _ in range(comparison.MIN_CAMPAIGNS):
        job = make_job()
        body = {
            "job_id": job.id,
            "platforms": ["meta", "tiktok"],
            "budget_total": 3_000_000,
            "budget_daily": 100_000,
        }
        campaign = client.post("/api/v1/campaigns", json=body).get_json()
        assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
        ids.append(campaign["id"])
    today = sandbox.advance_days(5)
    metrics_sync.sync_metrics(until=today)
    for campaign_id in ids:
        settings.configure(campaign_id=campaign_id, enabled=True, explore=0.1)
    for offset in range(3):
        assert daily.run_daily(today=today + timedelta(days=offset))["allocated"] == len(ids)
        metrics_sync.sync_metrics(until=sandbox.advance_days(1))
    logged_rows = db.session.scalars(select(AllocationEntry)).all()
    first = comparison.compare_policies(campaign_id=ids[0], today=today + timedelta(days=3))
    assert first.campaigns == len(ids) and first.pooled_entries == len(logged_rows) == 6 * len(ids)
    assert first.has_interval and first.note is None and first.days == 3 and first.entries == 6
    assert first.logged is not None and first.logged.low is not None and first.logged.high is not None
    assert first.logged.low <= first.logged.value <= first.logged.high
    for estimate in first.policies:
        assert estimate.dr.low is not None and estimate.dr.low <= estimate.dr.value <= estimate.dr.high
    # Every campaign's page shows the same pooled estimate (one method, one pool), and its own part
    # beside it: the parts add up to the pooled estimate.
    pages = [comparison.compare_policies(campaign_id=i, today=today + timedelta(days=3)) for i in ids]
    for page in pages:
        assert page.logged == first.logged and [p.dr for p in page.policies] == [p.dr for p in first.policies]
    assert abs(sum(page.campaign_logged or 0 for page in pages) - first.logged.value) < 1e-6
    for k, estimate in enumerate(first.policies):
        assert abs(sum(page.policies[k].campaign_dr for page in pages) - estimate.dr.value) < 1e-6
    monkeypatch.setattr(local_dates, "today", lambda: today + timedelta(days=3))  # the sandbox's clock
    api = client.get(f"/api/v1/allocation/{ids[0]}/comparison").get_json()
    assert api["has_interval"] is True and api["campaigns"] == len(ids) and api["note"] is None
