"""Job feeds: register (checked), list, change, enable or disable, remove; and their runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import TASK_RUN_FEED
from adflux.extensions import db
from adflux.models import FeedRun, JobFeed
from adflux.services import audit, task_queue
from adflux.services.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from adflux.services.feeds.destinations import location_problem, masked_location
from adflux.services.feeds.fetching import is_url
from adflux.services.feeds.fields import check_mapping
from adflux.services.feeds.records import FEED_FORMATS
from adflux.services.feeds.runs import queue_run
from adflux.services.pagination import Page, paginate
from adflux.settings import current_settings

FIELDS = ("name", "location", "format", "mapping", "interval_minutes", "enabled", "max_shrink")


def list_feeds() -> list[JobFeed]:
    return list(db.session.scalars(select(JobFeed).order_by(JobFeed.id)))


def get_feed(*, feed_id: int) -> JobFeed:
    feed = db.session.get(JobFeed, feed_id)
    if feed is None:
        raise NotFound(_("Job feed %(feed_id)s does not exist", feed_id=feed_id))
    return feed


def create_feed(*, data: dict[str, Any]) -> JobFeed:
    """Register a feed after checking its location, format, mapping and schedule."""
    clean = _checked({"mapping": {}, "interval_minutes": 15, "enabled": True, "max_shrink": 0.5, **data})
    _unique_name(clean["name"], None)
    feed = JobFeed(**clean)
    db.session.add(feed)
    db.session.flush()
    audit.record("feed.create", entity_type="feed", entity_id=feed.id, after=_snapshot(feed))
    db.session.commit()
    return feed


def update_feed(*, feed_id: int, changes: dict[str, Any]) -> JobFeed:
    feed = get_feed(feed_id=feed_id)
    before = _snapshot(feed)
    clean = _checked({**{name: getattr(feed, name) for name in FIELDS}, **changes})
    _unique_name(clean["name"], feed.id)
    moved = (
        clean["location"] != feed.location
        or clean["format"] != feed.format
        or clean["mapping"] != feed.mapping
    )
    for name, value in clean.items():
        setattr(feed, name, value)
    if moved:  # another file or reading: the next run reads it whole, not "unchanged"
        feed.etag = feed.last_modified = feed.content_sha256 = None
    audit.record("feed.update", entity_type="feed", entity_id=feed.id, before=before, after=_snapshot(feed))
    db.session.commit()
    return feed


def delete_feed(*, feed_id: int) -> None:
    """Remove a feed; its openings stay (they no longer follow any feed)."""
    feed = get_feed(feed_id=feed_id)
    audit.record("feed.delete", entity_type="feed", entity_id=feed.id, before=_snapshot(feed))
    db.session.delete(feed)
    db.session.commit()


def start_run(*, feed_id: int) -> FeedRun:
    """Queue a run of the feed now; the returned run (queued) is the one the worker fills in."""
    feed = get_feed(feed_id=feed_id)
    run = queue_run(feed)
    run_id = run.id
    try:
        task_queue.send(TASK_RUN_FEED, feed.id, "manual", run_id, queue="automation")
    except task_queue.QueueUnavailable as exc:
        failed = db.session.get(FeedRun, run_id)
        if failed is not None:
            failed.status, failed.error = "failed", "The task queue is unavailable; the feed was not read"
            db.session.commit()
        raise ServiceUnavailable(_("The task queue is unavailable; the feed was not read")) from exc
    db.session.expire_all()
    return get_run(run_id=run_id)


def get_run(*, run_id: int) -> FeedRun:
    run = db.session.get(FeedRun, run_id)
    if run is None:
        raise NotFound(_("Feed run %(run_id)s does not exist", run_id=run_id))
    return run


def list_runs(*, feed_id: int | None = None, page: int = 1, page_size: int = 20) -> Page[FeedRun]:
    stmt = select(FeedRun)
    if feed_id is not None:
        get_feed(feed_id=feed_id)
        stmt = stmt.where(FeedRun.feed_id == feed_id)
    return paginate(stmt.order_by(FeedRun.id.desc()), page=page, page_size=page_size)


def _snapshot(feed: JobFeed) -> dict[str, Any]:
    """The feed as the audit trail records it: a location's password and query (often a token) masked."""
    shown = {name: getattr(feed, name) for name in FIELDS}
    shown["location"] = masked_location(feed.location)
    return shown


def _unique_name(name: str, own_id: int | None) -> None:
    other = db.session.scalar(select(JobFeed.id).where(JobFeed.name == name))
    if other is not None and other != own_id:
        raise Conflict(_("A feed called %(name)r already exists", name=name))


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}
    clean["name"] = str(clean.get("name") or "").strip()
    if not 2 <= len(clean["name"]) <= 120:
        errors["name"] = ["2 to 120 characters"]
    location = str(clean.get("location") or "").strip()
    clean["location"] = location
    if not location:
        errors["location"] = ["an http(s):// address or a file path"]
    elif "://" in location and not is_url(location) and not location.startswith("file://"):
        errors["location"] = ["only http://, https:// or a file path"]
    elif not is_url(location) and not Path(location.removeprefix("file://")).is_absolute():
        errors["location"] = ["a file path must be absolute"]
    if location and "location" not in errors:
        settings = current_settings()
        problem = location_problem(
            location, production=settings.env == "production", feed_dir=settings.feed_dir
        )
        if problem:
            errors["location"] = [problem]
    fmt = str(clean.get("format") or "").strip().lower() or _guess_format(location)
    if fmt not in FEED_FORMATS:
        errors["format"] = [f"one of {', '.join(FEED_FORMATS)}"]
    clean["format"] = fmt
    interval = clean.get("interval_minutes")
    if not isinstance(interval, int) or not 1 <= interval <= 7 * 24 * 60:
        errors["interval_minutes"] = ["1 minute to 1 week"]
    shrink = clean.get("max_shrink")
    if not isinstance(shrink, (int, float)) or not 0 < shrink <= 1:
        errors["max_shrink"] = ["a fraction in (0, 1], e.g. 0.5"]
    if errors:
        raise ValidationFailed(_("The feed is invalid"), errors=errors)
    clean["mapping"] = check_mapping(clean.get("mapping") or {})
    return clean


def _guess_format(location: str) -> str:
    name = location.split("?")[0].lower()
    for fmt, endings in (
        ("xml", (".xml",)),
        ("jsonl", (".jsonl", ".ndjson")),
        ("json", (".json",)),
        ("csv", (".csv",)),
    ):
        if name.endswith(endings):
            return fmt
    return ""
