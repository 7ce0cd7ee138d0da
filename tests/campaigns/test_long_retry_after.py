"""A platform's Retry-After longer than a worker should sleep schedules the retry at that time."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry

from adflux.extensions import db
from adflux.models import PlatformCampaign
from adflux.platforms.errors import ThrottledError
from adflux.services import campaigns as campaigns_service
from adflux.services import metrics_sync, publishing
from adflux.tasks import publishing as publish_tasks
from factories import make_job


class ThrottledAdapter:
    """An adapter whose platform answers "come back in 10 minutes" (the transport gave up waiting)."""

    platform = "meta"
    account = type("Account", (), {"account_id": "act_1"})()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def publish(self, spec):
        raise ThrottledError("rate limited", platform="meta", retry_after=600.0)


@pytest.fixture
def draft(app_ctx, monkeypatch):
    job = make_job()
    campaign = campaigns_service.create_campaign(job_id=job.id, platforms=["meta"], budget_total=2_000_000)
    pc_id = campaign.platform_campaigns[0].id
    monkeypatch.setattr(publishing, "adapter_for", lambda platform: (ThrottledAdapter(), None))
    # A spec whose image the account already has (extra names it): nothing is uploaded first.
    spec = SimpleNamespace(creative=SimpleNamespace(image=b"png", extra={"image_hash": "h"}))
    monkeypatch.setattr(publishing, "build_spec", lambda pc, adapter: spec)
    return pc_id


def test_the_service_hands_the_wait_back_instead_of_sleeping(draft, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"slept {seconds} s in a worker"))
    with pytest.raises(publishing.RetryLater) as later:
        publishing.publish_platform_campaign(platform_campaign_id=draft)
    assert later.value.seconds == 600
    pc = db.session.get(PlatformCampaign, draft)
    assert pc.status == "pending" and pc.error_class == "retryable"  # picked up again, not failed


def test_the_task_schedules_its_retry_at_the_platforms_time(draft, monkeypatch):
    scheduled: dict = {}

    def retry(**options):
        scheduled.update(options)
        return Retry("scheduled", when=options.get("countdown"))

    monkeypatch.setattr(publish_tasks.publish_platform_campaign, "retry", retry)
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"slept {seconds} s in a worker"))
    with pytest.raises(Retry):
        publish_tasks.publish_platform_campaign(draft)
    assert scheduled["countdown"] == 600


def test_a_metrics_sync_retries_after_the_longest_hint():
    result = {
        "failed_platforms": ["meta", "x"],
        "platforms": {"meta": {"error": "throttled", "retry_after": 900.0}, "x": {"error": "down"}},
    }
    assert metrics_sync.retry_delay(result, default=60) == 900
    assert metrics_sync.retry_delay({"platforms": {"x": {"error": "down"}}}, default=120) == 120
    huge = {"platforms": {"meta": {"retry_after": 10 * 86400}}}
    assert metrics_sync.retry_delay(huge, default=60) == 86400
