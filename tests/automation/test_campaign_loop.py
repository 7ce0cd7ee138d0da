"""The campaign loop end to end (eager tasks, the sandbox over loopback): a new opening gets its
playbook's campaign on every platform, a changed one gets new ads, a filled one stops spending on
every platform, a reopened one resumes; approvals hold a campaign until a manager decides."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AuditEvent, Campaign, JobOpening
from adflux.services import approvals, feed_campaigns
from adflux.services.errors import ValidationFailed
from adflux.services.feeds import registry, runs
from adflux.services.playbooks import planning
from adflux.services.playbooks import registry as playbooks
from factories import make_segments
from feed_helpers import feed_jobs, publish_feed


def _campaigns(ref: str) -> list[Campaign]:
    job = db.session.scalar(select(JobOpening).where(JobOpening.external_ref == ref))
    return list(db.session.scalars(select(Campaign).where(Campaign.job_id == job.id).order_by(Campaign.id)))


def _platform_states(campaign: Campaign) -> dict[str, str]:
    db.session.refresh(campaign)
    return {pc.platform: pc.status for pc in campaign.platform_campaigns}


def _spend(sandbox, campaign: Campaign) -> int:
    """What the platforms themselves delivered (the sandbox's own ledger, not AdFlux's rows)."""
    ledger = sandbox.spend_ledger()
    return sum(
        ledger[pc.platform].get(pc.external_campaign_id, {}).get("spend_micros", 0)
        for pc in campaign.platform_campaigns
    )


def test_feed_to_campaigns_and_back(app_ctx, portal, sandbox):
    jobs = feed_jobs(6)
    target = next(j for j in jobs if j["salary_min"])  # the playbook takes openings with a salary
    playbooks.create_playbook(
        data={
            "name": "Con salario",
            "conditions": {"categories": [target["category"]], "salary_min": 1},
            "platforms": ["meta", "google"],
            "budget_formula": "salary_max * 0.5",
            "budget_daily": 50_000,
            "flight_days": 30,
            "target_cpa": 40_000,
        }
    )
    publish_feed(portal, jobs)
    feed = registry.create_feed(data={"name": "Portal", "location": portal.url})
    runs.run_feed(feed_id=feed.id)

    [campaign] = _campaigns(target["external_ref"])
    assert campaign.status == "active" and campaign.playbook_id is not None
    assert campaign.budget_total == round(target["salary_max"] * 0.5)
    assert _platform_states(campaign) == {"meta": "active", "google": "active"}
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "automation.campaign_created"))
    assert created.after["reason"].startswith("nueva en el feed ")
    # Running the same event again (a redelivered task) makes nothing new.
    job_id = campaign.job_id
    again = feed_campaigns.follow_job(job_id=job_id, kind="new")
    assert again["outcome"] == "skipped" and len(_campaigns(target["external_ref"])) == 1

    # The salary changes: the same campaign gets the new salary in its ads, in place on each platform.
    changed = [dict(j) for j in jobs]
    index = jobs.index(target)
    changed[index] = {
        **target,
        "salary_min": target["salary_min"] + 1_000_000,
        "salary_max": target["salary_max"] + 1_000_000,
    }
    ads_before = {pc.platform: dict(pc.external_ids["ads"]) for pc in campaign.platform_campaigns}
    publish_feed(portal, changed)
    runs.run_feed(feed_id=feed.id)
    [new] = _campaigns(target["external_ref"])
    db.session.refresh(new)
    assert new.id == campaign.id and new.status == "active"
    new_salary = f"{changed[index]['salary_min']:,}".replace(",", ".")
    for pc in new.platform_campaigns:
        db.session.refresh(pc)
        assert pc.update_status == "applied" and pc.external_ids["ads"] == ads_before[pc.platform]
        assert any(new_salary in (c.primary_text + (c.description or "")) for c in pc.creatives)
    meta = next(pc for pc in new.platform_campaigns if pc.platform == "meta")
    meta_ad = sandbox.state.get("meta", "ad", next(iter(meta.external_ids["ads"].values())))
    creative = sandbox.state.get("meta", "creative", meta_ad["creative"]["id"])
    assert new_salary in creative["object_story_spec"]["link_data"]["message"]
    updated = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "automation.updated"))
    assert updated.after["reason"].startswith("la oferta cambió en el feed ")

    spent = _spend(sandbox, new)
    sandbox.advance_days(1)
    assert _spend(sandbox, new) > spent  # live: the platforms spend

    # Filled: paused on every platform, in one feed cycle, and the spending stops.
    changed[index] = {**changed[index], "feed_status": "filled"}
    publish_feed(portal, changed)
    run = runs.run_feed(feed_id=feed.id)
    assert run.closed == 1
    db.session.refresh(new)
    assert new.status == "paused" and new.automation_hold == "job_closed"
    assert set(_platform_states(new).values()) == {"paused"}
    paused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "automation.paused"))
    assert paused.after["reason"].startswith("cerrada en el feed ")
    spent = _spend(sandbox, new)
    sandbox.advance_days(2)
    assert _spend(sandbox, new) == spent

    # Reopened: what automation paused resumes.
    changed[index] = {**changed[index], "feed_status": "active"}
    publish_feed(portal, changed)
    runs.run_feed(feed_id=feed.id)
    db.session.refresh(new)
    assert new.status == "active" and new.automation_hold is None
    assert set(_platform_states(new).values()) == {"active"}


def test_a_closed_opening_past_the_grace_period_is_completed_by_the_sweep(app_ctx, portal, sandbox):
    jobs = feed_jobs(3)
    playbooks.create_playbook(data={"name": "Todo", "platforms": ["tiktok"], "budget_total": 500_000})
    publish_feed(portal, jobs)
    feed = registry.create_feed(data={"name": "Portal", "location": portal.url})
    runs.run_feed(feed_id=feed.id)
    publish_feed(portal, jobs[1:])
    runs.run_feed(feed_id=feed.id)
    [campaign] = _campaigns(jobs[0]["external_ref"])
    assert campaign.status == "paused"
    assert feed_campaigns.sweep()["completed"] == 0  # still inside the grace period
    job = db.session.get(JobOpening, campaign.job_id)
    job.closed_at = job.closed_at - timedelta(hours=73)
    db.session.commit()
    assert feed_campaigns.sweep()["completed"] == 1
    db.session.refresh(campaign)
    assert campaign.status == "completed" and campaign.automation_hold is None


def test_approval_holds_the_campaign_until_a_manager_decides(app_ctx, portal, sandbox):
    jobs = feed_jobs(2)
    playbooks.create_playbook(
        data={"name": "Revisar", "platforms": ["meta"], "budget_total": 800_000, "requires_approval": True}
    )
    publish_feed(portal, jobs)
    feed = registry.create_feed(data={"name": "Portal", "location": portal.url})
    runs.run_feed(feed_id=feed.id)
    pending = approvals.list_pending().items
    assert [c.status for c in pending] == ["draft", "draft"]
    with pytest.raises(ValidationFailed):
        approvals.reject(campaign_id=pending[0].id, reason="")
    rejected = approvals.reject(campaign_id=pending[0].id, reason="Presupuesto alto para este cargo")
    assert rejected.status == "archived" and rejected.approval_note == "Presupuesto alto para este cargo"
    approvals.approve(campaign_id=pending[1].id)
    approved = db.session.get(Campaign, pending[1].id)
    assert approved.status == "active" and approved.approval_status == "approved"
    assert approvals.list_pending().total == 0


def test_a_dry_run_says_what_each_playbook_would_take_and_spend(app_ctx, portal):
    jobs = feed_jobs(12)
    publish_feed(portal, jobs)
    feed = registry.create_feed(data={"name": "Portal", "location": portal.url})
    playbook = playbooks.create_playbook(
        data={
            "name": "Salud",
            "conditions": {"categories": ["Salud"]},
            "platforms": ["meta"],
            "budget_total": 300_000,
            "enabled": False,
        }
    )
    runs.run_feed(feed_id=feed.id)  # the playbook is disabled: no campaign
    assert db.session.scalar(select(Campaign.id)) is None
    result = planning.dry_run(playbook_id=playbook.id)
    expected = sum(1 for j in jobs if j["category"] == "salud")
    assert result["playbooks"][0]["openings"] == 0  # disabled playbooks take nothing
    playbooks.set_enabled(playbook_id=playbook.id, enabled=True)
    result = planning.dry_run(playbook_id=playbook.id)
    assert result["playbooks"][0]["openings"] == expected
    assert result["playbooks"][0]["budget_total"] == 300_000 * expected


def test_playbooks_refuse_unknown_fields_and_broken_formulas_at_save_time(app_ctx):
    with pytest.raises(ValidationFailed) as unknown:
        playbooks.create_playbook(
            data={
                "name": "X1",
                "platforms": ["meta"],
                "budget_total": 100_000,
                "conditions": {"ciudad": ["Cali"]},
            }
        )
    assert "unknown field 'ciudad'" in unknown.value.errors["conditions"][0]
    with pytest.raises(ValidationFailed) as formula:
        playbooks.create_playbook(
            data={"name": "X2", "platforms": ["meta"], "budget_formula": "__import__('os')"}
        )
    assert "not allowed" in formula.value.message
    with pytest.raises(ValidationFailed) as both:
        playbooks.create_playbook(
            data={"name": "X3", "platforms": ["meta"], "budget_total": 100_000, "budget_formula": "salary"}
        )
    assert "budget_total" in both.value.errors


def test_best_segments_fall_back_to_the_largest_without_results(app_ctx):
    segments = make_segments(2)
    largest = max(segments, key=lambda s: s.size)
    assert planning.best_segments("tecnologia", 1) == [largest.id]


def test_an_approval_whose_publishing_cannot_start_stays_pending(app_ctx, portal, sandbox, monkeypatch):
    from adflux.services import task_queue
    from adflux.services.errors import ServiceUnavailable

    publish_feed(portal, feed_jobs(1))
    playbooks.create_playbook(
        data={"name": "Revisar", "platforms": ["meta"], "budget_total": 800_000, "requires_approval": True}
    )
    runs.run_feed(feed_id=registry.create_feed(data={"name": "Portal", "location": portal.url}).id)
    [pending] = approvals.list_pending().items

    def down(*args, **kwargs):
        raise task_queue.QueueUnavailable("broker down")

    monkeypatch.setattr(task_queue, "send", down)
    with pytest.raises(ServiceUnavailable):
        approvals.approve(campaign_id=pending.id)
    db.session.refresh(pending)
    assert (pending.status, pending.approval_status) == ("draft", "pending")


def test_approvers_hear_of_a_waiting_campaign_through_an_alert(app_ctx, portal, sandbox):
    from adflux.models import Alert
    from adflux.services import alerting

    publish_feed(portal, feed_jobs(1))
    playbooks.create_playbook(
        data={"name": "Revisar", "platforms": ["meta"], "budget_total": 800_000, "requires_approval": True}
    )
    runs.run_feed(feed_id=registry.create_feed(data={"name": "Portal", "location": portal.url}).id)
    [pending] = approvals.list_pending().items
    alerting.evaluate()
    alert = db.session.scalar(select(Alert).where(Alert.rule == "campaign_awaiting_approval"))
    assert alert.status == "open" and alert.key == f"campaign:{pending.id}" and "$ 800.000" in alert.message
    approvals.approve(campaign_id=pending.id)
    alerting.evaluate()
    db.session.refresh(alert)
    assert alert.status == "resolved"


def test_the_sweep_pauses_what_a_lost_follow_up_left_delivering(app_ctx, portal, sandbox):
    jobs = feed_jobs(2)
    playbooks.create_playbook(data={"name": "Todo", "platforms": ["snapchat"], "budget_total": 500_000})
    publish_feed(portal, jobs)
    runs.run_feed(feed_id=registry.create_feed(data={"name": "Portal", "location": portal.url}).id)
    [campaign] = _campaigns(jobs[0]["external_ref"])
    job = db.session.get(JobOpening, campaign.job_id)
    job.status, job.close_reason = "closed", "feed_gone"  # closed, but its follow-up never arrived
    db.session.commit()
    assert feed_campaigns.sweep()["closed_followups"] == 1
    db.session.refresh(campaign)
    assert campaign.status == "paused" and set(_platform_states(campaign).values()) == {"paused"}
    assert feed_campaigns.sweep()["closed_followups"] == 0


def test_only_enabled_feeds_whose_interval_passed_are_due(app_ctx, portal):
    publish_feed(portal, feed_jobs(1))
    due = registry.create_feed(data={"name": "Cada 15", "location": portal.url})
    off = registry.create_feed(data={"name": "Apagado", "location": portal.url, "enabled": False})
    assert runs.due_feeds() == [due.id]
    runs.run_feed(feed_id=due.id)
    assert runs.due_feeds() == []
    feed = registry.get_feed(feed_id=due.id)
    feed.last_run_at = feed.last_run_at - timedelta(minutes=15)
    db.session.commit()
    assert runs.due_feeds() == [due.id] and off.id not in runs.due_feeds()
