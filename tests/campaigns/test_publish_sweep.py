"""Publishes nobody is doing (a lost message, a dead worker) are resent within about a minute."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign
from adflux.models.base import utcnow
from adflux.services import campaigns as campaigns_service
from adflux.services import task_queue
from adflux.services.locks import try_lock
from factories import make_job


def _stalled_campaign(client, *, idle_seconds: int, status: str = "pending") -> dict:
    """A campaign left publishing with its platforms `status` for `idle_seconds` (messages lost)."""
    body = {"job_id": make_job().id, "platforms": ["meta", "google"], "budget_total": 2_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    db.session.execute(update(Campaign).where(Campaign.id == campaign["id"]).values(status="publishing"))
    db.session.execute(
        update(PlatformCampaign)
        .where(PlatformCampaign.campaign_id == campaign["id"])
        .values(status=status, updated_at=utcnow() - timedelta(seconds=idle_seconds))
    )
    db.session.commit()
    return campaign


def test_pending_publishes_idle_for_a_minute_are_resent_and_finish(client, app_ctx, sandbox):
    campaign = _stalled_campaign(client, idle_seconds=90)
    assert campaigns_service.resend_stalled_publishes() == 2
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active"
    assert sandbox.object_counts("meta").get("campaign") == 1


def test_recent_pending_publishes_are_left_alone(client, app_ctx, sandbox):
    campaign = _stalled_campaign(client, idle_seconds=5)
    assert campaigns_service.resend_stalled_publishes() == 0
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["status"] == "publishing"


def test_a_publish_a_live_worker_holds_is_not_resent_but_a_dead_workers_is(client, app, app_ctx, sandbox):
    campaign = _stalled_campaign(client, idle_seconds=90, status="publishing")
    ids = [
        pc["id"] for pc in client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["platform_campaigns"]
    ]
    held, release = threading.Event(), threading.Event()

    def live_worker() -> None:  # holds the first platform campaign's publish lock
        with app.app_context(), try_lock("publish", ids[0]) as got:
            assert got
            held.set()
            release.wait(10)

    worker = threading.Thread(target=live_worker)
    worker.start()
    try:
        assert held.wait(5)
        # Only the second one is resent: nobody holds its lock (its worker died).
        assert campaigns_service.resend_stalled_publishes() == 1
        statuses = {pc.id: pc.status for pc in db.session.query(PlatformCampaign).all()}
        assert statuses[ids[0]] == "publishing" and statuses[ids[1]] == "active"
    finally:
        release.set()
        worker.join()


def test_a_campaign_whose_platforms_all_finished_but_never_settled_is_settled(client, app_ctx, sandbox):
    # A worker died after recording its platform's result and before settling the campaign.
    campaign = _stalled_campaign(client, idle_seconds=90, status="active")
    db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign["id"])
        .values(updated_at=utcnow() - timedelta(seconds=90))
    )
    db.session.commit()
    assert campaigns_service.resend_stalled_publishes() == 0
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()["status"] == "active"


def test_a_resent_publish_finishes_the_campaigns_publish_run(client, app_ctx, sandbox, monkeypatch):
    body = {"job_id": make_job().id, "platforms": ["meta"], "budget_total": 2_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    # Publishing started, but its message never reached a worker (the broker lost it).
    with monkeypatch.context() as lost:
        lost.setattr(task_queue, "send", lambda *args, **kwargs: None)
        run = client.post(f"/api/v1/campaigns/{campaign['id']}/publish").get_json()
    db.session.execute(update(PlatformCampaign).values(updated_at=utcnow() - timedelta(seconds=90)))
    db.session.commit()
    assert campaigns_service.resend_stalled_publishes() == 1
    finished = client.get(run["status_url"]).get_json()
    assert finished["status"] == "succeeded" and finished["progress"] == 100.0
