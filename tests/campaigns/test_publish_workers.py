"""Exactly-once publishing and changes with real Celery workers on Redis, against the sandbox over HTTP.

A worker is SIGKILLed in the middle of a publish and a new one started: the broker redelivers
the task (acks late + a short visibility timeout) and the platform still ends up with exactly one
campaign tree. Several workers publishing many campaigns at once create no duplicates either.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import AuditEvent, Campaign, PlatformCampaign
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.services import campaigns as campaigns_service
from adflux.services.campaigns import changes
from adflux.services.local_dates import today
from adflux.settings import Settings
from conftest import TEST_DATABASE_URL, require_service
from factories import make_job, make_segments
from worker_helpers import flushed_broker, stop_process_group

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
VISIBILITY_TIMEOUT = 4
WORKER_LOGS: list[Path] = []


@pytest.fixture
def broker() -> Iterator[str]:
    if not TEST_DATABASE_URL or not TEST_DATABASE_URL.startswith("postgres"):
        require_service("PostgreSQL", "set TEST_DATABASE_URL to run workers against a shared database")
    with flushed_broker(BROKER_URL) as url:
        yield url


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    yield server
    server.stop()


@pytest.fixture
def worker_app(app: Flask, broker: str, slow_sandbox: SandboxServer) -> Iterator[Flask]:
    """An app whose tasks go to Redis and whose adapters call the sandbox over HTTP."""
    settings: Settings = app.extensions["adflux_settings"]
    redis_app = create_app(
        settings.replace(
            celery_broker_url=broker,
            platform_base_url=slow_sandbox.base_url,
            celery_visibility_timeout=VISIBILITY_TIMEOUT,
        )
    )
    with redis_app.app_context():
        yield redis_app
        db.session.remove()
    # Give the eager test app its Celery back for the tests that follow.
    app.extensions["celery"].set_default()


@pytest.fixture(autouse=True)
def keep_worker_logs() -> Iterator[None]:
    """The workers' logs, copied where a failed run can still be read (ADFLUX_TEST_ARTIFACTS)."""
    yield
    target = Path(os.environ.get("ADFLUX_TEST_ARTIFACTS", "test-artifacts"))
    target.mkdir(parents=True, exist_ok=True)
    for log in WORKER_LOGS:
        if log.exists():
            shutil.copy(log, target / f"publish-workers-{log.parent.name}-{log.name}")


@pytest.fixture
def start_worker(
    tmp_path: Path, broker: str, slow_sandbox: SandboxServer
) -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL or "",
        "CELERY_BROKER_URL": broker,
        "ADFLUX_PLATFORM_BASE_URL": slow_sandbox.base_url,
        "ADFLUX_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "ADFLUX_INSTANCE_PATH": str(tmp_path),
        "ADFLUX_ENV": "development",
        "LOG_LEVEL": "INFO",
    }

    def start(name: str, concurrency: int = 1) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        WORKER_LOGS.append(log)
        pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "-c", str(concurrency)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "adflux.worker", "worker", "-Q", "publishing", *pool,
             "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append(proc)
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        return proc

    yield start
    for proc in started:
        stop_process_group(proc)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {log.name}\n{log.read_text(errors='replace')[-2500:]}" for log in WORKER_LOGS
            )
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.2)


def _statuses(campaign_ids: list[int]) -> dict[int, str]:
    db.session.expire_all()
    rows = db.session.execute(select(Campaign.id, Campaign.status).where(Campaign.id.in_(campaign_ids)))
    return dict(rows.all())


def test_publish_is_not_repeated_after_worker_crash(worker_app, start_worker, slow_sandbox):
    job = make_job()
    segments = make_segments(2)
    campaign = campaigns_service.create_campaign(
        job_id=job.id, platforms=["meta"], segment_ids=[s.id for s in segments], budget_total=2_000_000
    )
    # Slow calls so the worker is surely in the middle of the tree when it dies.
    slow_sandbox.set_faults("meta", latency_ms=400)
    first = start_worker("crashy")
    campaigns_service.publish_campaign(campaign_id=campaign.id)
    _wait_for(lambda: slow_sandbox.object_counts("meta").get("campaign", 0) == 1, 60, "the campaign at Meta")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    counts_at_crash = slow_sandbox.object_counts("meta")
    assert counts_at_crash.get("ad", 0) < 2, "the worker finished before it could be killed"

    slow_sandbox.set_faults("meta", latency_ms=20)
    start_worker("rescuer")
    _wait_for(lambda: _statuses([campaign.id])[campaign.id] == "active", 90, "the redelivered publish")

    counts = slow_sandbox.object_counts("meta")
    assert counts.get("campaign") == 1
    assert counts.get("adset") == 2 and counts.get("ad") == 2 and counts.get("creative") == 1
    pc = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign.id)).one()
    assert pc.status == "active" and pc.attempts == 2 and pc.external_campaign_id


def test_several_workers_publish_many_campaigns_without_duplicates(worker_app, start_worker, slow_sandbox):
    job = make_job()
    segments = make_segments(1)
    platforms = ["meta", "google", "tiktok"]
    for platform in platforms:
        slow_sandbox.set_faults(platform, latency_ms=10)
    ids = [
        campaigns_service.create_campaign(
            job_id=job.id,
            platforms=platforms,
            segment_ids=[segments[0].id],
            budget_total=900_000,
            name=f"Lote {i}",
        ).id
        for i in range(12)
    ]
    start_worker("alpha", concurrency=2)
    start_worker("beta", concurrency=2)
    for campaign_id in ids:
        campaigns_service.publish_campaign(campaign_id=campaign_id)
        # A double click, and a redelivered message: neither may create anything twice.
        with pytest.raises(Exception, match="no se puede publicar"):
            campaigns_service.publish_campaign(campaign_id=campaign_id)
    pcs = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == ids[0])).all()
    from adflux.tasks.publishing import publish_platform_campaign

    for pc in pcs:
        publish_platform_campaign.apply_async(args=[pc.id, None], queue="publishing")

    try:
        _wait_for(lambda: set(_statuses(ids).values()) == {"active"}, 120, "every campaign to go active")
    except AssertionError:
        problems = db.session.execute(
            select(
                PlatformCampaign.campaign_id,
                PlatformCampaign.platform,
                PlatformCampaign.status,
                PlatformCampaign.last_error,
            ).where(PlatformCampaign.status != "active")
        ).all()
        raise AssertionError(f"statuses {_statuses(ids)}; not active: {problems[:5]}") from None
    for platform in platforms:
        assert slow_sandbox.object_counts(platform).get("campaign") == len(ids), platform


# -- in-place changes (services/campaigns/changes.py) through the same workers ----------------------


def _change_pcs(campaign_id: int) -> dict[str, PlatformCampaign]:
    db.session.expire_all()
    rows = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign_id))
    return {pc.platform: pc for pc in rows}


def test_a_worker_applies_the_change_once_even_when_killed_mid_update(worker_app, start_worker, slow_sandbox):
    platforms = ["meta", "tiktok", "snapchat"]
    job = make_job()
    campaign = campaigns_service.create_campaign(job_id=job.id, platforms=platforms, budget_total=3_000_000)
    first = start_worker("first")
    campaigns_service.publish_campaign(campaign_id=campaign.id)
    _wait_for(lambda: _statuses([campaign.id])[campaign.id] == "active", 90, "the publish")

    # Slow Meta so the worker is surely inside the update when it dies.
    slow_sandbox.set_faults("meta", latency_ms=700)
    job.title = "Técnico de mantenimiento senior"
    db.session.commit()
    result = changes.refresh_creatives(db.session, campaign.id, actor="ana@example.co")
    assert set(result.queued) == set(platforms)
    _wait_for(lambda: slow_sandbox.object_counts("meta").get("creative", 0) == 2, 60, "the new Meta creative")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    slow_sandbox.set_faults("meta", latency_ms=10)
    start_worker("second")
    _wait_for(
        lambda: {pc.update_status for pc in _change_pcs(campaign.id).values()} == {"applied"},
        90,
        "every update",
    )
    pcs = _change_pcs(campaign.id)
    assert slow_sandbox.object_counts("meta").get("creative") == 2  # the old one and exactly one new
    assert slow_sandbox.object_counts("snapchat").get("creative") == 2
    for ad_id in pcs["meta"].external_ids["ads"].values():
        ad = slow_sandbox.state.get("meta", "ad", ad_id)
        creative = slow_sandbox.state.get("meta", "creative", ad["creative"]["id"])
        assert "senior" in creative["object_story_spec"]["link_data"]["name"]
    assert all(pc.applied_revision == pc.update_revision == 1 for pc in pcs.values())


# -- a change made while the campaign is still publishing lands once ---------------------------------


def _applied_events(pc_ids: list[int]) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "platform_campaign.update_applied",
            AuditEvent.entity_type == "platform_campaign",
            AuditEvent.entity_id.in_([str(pc_id) for pc_id in pc_ids]),
        )
    )


def test_a_change_during_the_publish_follows_it_and_lands_once(worker_app, start_worker, slow_sandbox):
    platforms = ["meta", "tiktok"]
    campaign = campaigns_service.create_campaign(
        job_id=make_job().id, platforms=platforms, budget_total=3_000_000
    )
    for platform in platforms:
        slow_sandbox.set_faults(platform, latency_ms=300)  # every call slow: the publish takes seconds
    start_worker("publisher", concurrency=2)
    campaigns_service.publish_campaign(campaign_id=campaign.id)
    _wait_for(
        lambda: all(slow_sandbox.object_counts(p).get("campaign", 0) == 1 for p in platforms),
        120,
        "both publishes under way",
    )
    pcs = _change_pcs(campaign.id)
    assert {pc.status for pc in pcs.values()} == {"publishing"}  # the spec was read before the change

    end = today() + timedelta(days=25)
    result = changes.change_campaign(
        db.session, campaign.id, actor="ana@example.co", budget_total=4_000_000, end_date=end
    )
    assert set(result.queued) == set(platforms)  # queued behind the publish, not dropped
    _wait_for(
        lambda: (
            {(pc.status, pc.update_status) for pc in _change_pcs(campaign.id).values()}
            == {("active", "applied")}
        ),
        120,
        "the publish, then the change",
    )
    pcs = _change_pcs(campaign.id)
    meta = slow_sandbox.state.get("meta", "campaign", pcs["meta"].external_campaign_id)
    assert int(meta["spend_cap"]) == pcs["meta"].budget_total == 2_000_000
    adsets = [slow_sandbox.state.get("meta", "adset", g.external_id) for g in pcs["meta"].ad_groups]
    assert {a["end_time"][:10] for a in adsets} == {end.isoformat()}
    tiktok = slow_sandbox.state.get("tiktok", "campaign", pcs["tiktok"].external_campaign_id)
    assert int(tiktok["budget"]) == pcs["tiktok"].budget_total == 2_000_000
    assert all(pc.applied_revision == pc.update_revision == 1 for pc in pcs.values())
    assert _applied_events([pc.id for pc in pcs.values()]) == 2  # once per platform, not twice
    assert slow_sandbox.object_counts("meta").get("campaign") == 1  # nothing re-created either


def test_a_change_before_the_worker_starts_is_carried_by_the_publish(worker_app, start_worker, slow_sandbox):
    campaign = campaigns_service.create_campaign(
        job_id=make_job().id, platforms=["meta"], budget_total=3_000_000
    )
    campaigns_service.publish_campaign(campaign_id=campaign.id)  # queued; no worker yet
    result = changes.change_campaign(db.session, campaign.id, actor="ana@example.co", budget_total=5_000_000)
    assert result.queued == {}  # nothing at the platform yet: the publish reads the new budget
    start_worker("late")
    _wait_for(lambda: _statuses([campaign.id])[campaign.id] == "active", 90, "the publish")
    pc = db.session.scalars(select(PlatformCampaign).where(PlatformCampaign.campaign_id == campaign.id)).one()
    meta = slow_sandbox.state.get("meta", "campaign", pc.external_campaign_id)
    assert int(meta["spend_cap"]) == 5_000_000
    assert pc.update_revision == 0 and _applied_events([pc.id]) == 0  # sent once, by the publish
