"""One run of a feed: fetch, read, compare, guard, write whole, and hand the openings that moved
to the campaign loop.

A feed that cannot be read, is cut short, or suddenly lists far fewer openings than its last good
run fails the run: nothing is written, no opening is closed, and the failing feed raises an
alert. Otherwise the run is written in one transaction (all of it or none of it) and each
opening that is new, changed, closed or reopened becomes one task for the campaign loop.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import TASK_FOLLOW_JOB, TASK_RUN_FEED
from adflux.extensions import db
from adflux.models import FeedRun, JobFeed
from adflux.models.base import utcnow
from adflux.services import audit, task_queue
from adflux.services.errors import Conflict, DomainError, NotFound
from adflux.services.feeds import diffing
from adflux.services.feeds.destinations import location_problem
from adflux.services.feeds.fetching import FeedUnreachable, fetch
from adflux.services.feeds.records import read_records
from adflux.services.locks import try_lock
from adflux.services.playbooks.planning import followed_events
from adflux.settings import current_settings

logger = logging.getLogger(__name__)


class FeedShrank(DomainError):
    """The feed lists far fewer openings than last time: probably broken, so nothing is closed."""

    status = 409
    code = "feed_shrank"


def queue_run(feed: JobFeed) -> FeedRun:
    """A run asked for now (by a person): recorded as queued, so it can be followed by its id."""
    run = FeedRun(feed_id=feed.id, started_at=utcnow(), status="queued", trigger="manual", errors=[])
    db.session.add(run)
    db.session.commit()
    return run


def run_feed(*, feed_id: int, trigger: str = "schedule", run_id: int | None = None) -> FeedRun:
    """Read the feed once and apply what changed; two runs of one feed never overlap."""
    feed = db.session.get(JobFeed, feed_id)
    if feed is None:
        raise NotFound(_("Job feed %(feed_id)s does not exist", feed_id=feed_id))
    queued = db.session.get(FeedRun, run_id) if run_id is not None else None
    if queued is not None and queued.status != "queued":
        return queued  # a redelivered task: that run already happened
    with try_lock("feed", feed_id) as got:
        if not got:
            if queued is not None:
                queued.status, queued.finished_at = "skipped", utcnow()
                queued.error = "Another run of this feed was in progress"
                db.session.commit()
            raise Conflict(_("Job feed %(name)r is being read right now", name=feed.name))
        return _run(feed, trigger, queued)


def _run(feed: JobFeed, trigger: str, run: FeedRun | None) -> FeedRun:
    if run is None:
        run = FeedRun(feed_id=feed.id, trigger=trigger, errors=[])
        db.session.add(run)
    run.started_at, run.status = utcnow(), "running"
    db.session.commit()
    settings = current_settings()
    production = settings.env == "production"
    problem = location_problem(feed.location, production=production, feed_dir=settings.feed_dir)
    if problem:
        return _fail(feed, run, f"The feed's address is not allowed: {problem}")
    try:
        fetched = fetch(
            feed.location,
            etag=feed.etag,
            last_modified=feed.last_modified,
            known_sha256=feed.content_sha256,
            max_bytes=settings.feed_max_bytes,
            follow_redirects=not production,
        )
    except FeedUnreachable as exc:
        return _fail(feed, run, exc.message)
    if fetched.path is None:
        expired = diffing.close_expired(feed.id)
        _audit_events(feed, expired)
        finished = _finish(
            feed,
            run,
            "unchanged",
            unchanged=feed.last_count or 0,
            listed=feed.last_count or 0,
            closed=len(expired),
        )
        _hand_over(finished, expired)
        return finished
    try:
        diff = diffing.compute(feed.id, read_records(fetched.path, feed.format, feed.mapping or {}))
        _guard(feed, diff)
        events = diffing.apply(feed.id, diff)
    except DomainError as exc:
        db.session.rollback()
        return _fail(feed, run, exc.message)
    except Exception as exc:
        db.session.rollback()
        _fail(feed, run, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        fetched.discard()
    feed.etag, feed.last_modified, feed.content_sha256 = fetched.etag, fetched.last_modified, fetched.sha256
    feed.last_count = diff.listed
    run.bytes_read, run.errors = fetched.size, diff.errors
    counts = {
        "listed": diff.listed,
        "new": sum(1 for e in events if e.kind == "new"),
        "changed": len(diff.changed),
        "unchanged": diff.unchanged,
        "closed": sum(1 for e in events if e.kind == "closed"),
        "reopened": len(diff.reopening),
        "rejected": diff.rejected,
    }
    _audit_events(feed, events)
    finished = _finish(feed, run, "succeeded", **counts)
    _hand_over(finished, events)
    return finished


def _guard(feed: JobFeed, diff: diffing.Diff) -> None:
    valid = diff.listed - diff.rejected
    if feed.last_count and valid < (1 - feed.max_shrink) * feed.last_count:
        raise FeedShrank(
            f"The feed lists {valid} valid openings where the last run listed {feed.last_count} "
            f"(more than {feed.max_shrink:.0%} fewer): nothing was closed; check the feed"
        )


def _audit_events(feed: JobFeed, events: list[diffing.JobEvent]) -> None:
    when = utcnow().isoformat(timespec="minutes")
    for event in events:
        if event.kind == "new":
            continue  # one line per new opening would bury the trail; the run counts them
        audit.record(
            f"job.feed_{event.kind}",
            entity_type="job",
            entity_id=event.job_id,
            after={"feed": feed.name, "at": when, **event.detail},
        )


def _finish(feed: JobFeed, run: FeedRun, status: str, **counts: Any) -> FeedRun:
    for name, value in counts.items():
        setattr(run, name, value)
    run.status, run.finished_at = status, utcnow()
    feed.last_run_at, feed.last_status = run.finished_at, status
    db.session.commit()
    logger.info("feed %s run %s: %s %s", feed.name, run.id, status, counts)
    return run


def _fail(feed: JobFeed, run: FeedRun, reason: str) -> FeedRun:
    run.status, run.error, run.finished_at = "failed", reason[:2000], utcnow()
    feed.last_run_at, feed.last_status = run.finished_at, "failed"
    audit.record("feed.run_failed", entity_type="feed", entity_id=feed.id, after={"reason": reason[:500]})
    db.session.commit()
    logger.warning("feed %s run %s failed: %s", feed.name, run.id, reason)
    return run


def _hand_over(run: FeedRun, events: list[diffing.JobEvent]) -> None:
    """One campaign-loop task per opening that moved and has something to follow: a new one a
    playbook takes, or one with campaigns (a lost message is caught by the sweep)."""
    todo = followed_events(events)
    sent = 0
    try:
        for event in todo:
            task_queue.send(TASK_FOLLOW_JOB, event.job_id, event.kind, run.id, queue="automation")
            sent += 1
    except task_queue.QueueUnavailable:
        logger.error(
            "feed run %s: the queue took %d of %d follow-ups; the sweep sends the rest",
            run.id,
            sent,
            len(todo),
        )


def queue_due_feeds() -> int:
    """Queue a run of every feed that is due; how many were queued (stops if the queue is down)."""
    queued = 0
    for feed_id in due_feeds():
        try:
            task_queue.send(TASK_RUN_FEED, feed_id, "schedule", queue="automation")
        except task_queue.QueueUnavailable:
            logger.error("queue down: %d due feeds queued, the rest wait for the next minute", queued)
            break
        queued += 1
    return queued


def due_feeds() -> list[int]:
    """Enabled feeds whose interval has passed since their last run."""
    now = utcnow()
    feeds = db.session.scalars(select(JobFeed).where(JobFeed.enabled.is_(True)).order_by(JobFeed.id))
    return [
        f.id
        for f in feeds
        if f.last_run_at is None or f.last_run_at + timedelta(minutes=f.interval_minutes) <= now
    ]
