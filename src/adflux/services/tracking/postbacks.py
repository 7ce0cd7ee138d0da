"""The portal's application events: validated, attributed and stored in bulk, idempotent by event id.

An event names its job (the portal's reference), when the candidate applied, and how they came:
AdFlux's click id (`afcid`) or the UTM values of the ad's link. It may carry the candidate's
SHA-256-hashed e-mail/phone with a consent flag; raw identifiers are refused, never stored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux.extensions import db
from adflux.models import ApplicationEvent
from adflux.services.errors import ValidationFailed
from adflux.services.tracking import attribution_sql
from adflux.services.tracking.attribution import attribute
from adflux.settings import current_settings

MAX_BATCH = 5000
LATEST_DAYS = 30  # events may arrive this many days after the application (older ones are refused)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SKEW = timedelta(minutes=5)  # a portal clock a little ahead is not an error
_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    duplicates: int
    attributed: int
    unattributed: int


def _fail(where: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {message}", errors={where: [message]})


def _text(event: dict[str, Any], name: str, where: str, *, required: bool, limit: int) -> str | None:
    value = event.get(name)
    if value is None or value == "":
        if required:
            raise _fail(f"{where}.{name}", "is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(f"{where}.{name}", f"must be text of at most {limit} characters")
    return value


def _moment(event: dict[str, Any], where: str, now: datetime) -> datetime:
    raw = _text(event, "occurred_at", where, required=True, limit=40)
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"{where}.occurred_at", "must be an ISO 8601 time with its offset") from None
    if moment.tzinfo is None:
        raise _fail(f"{where}.occurred_at", "must carry its offset (e.g. -05:00 or Z)")
    moment = moment.astimezone(UTC)
    if moment > now.replace(microsecond=0) + _SKEW:
        raise _fail(f"{where}.occurred_at", "is in the future")
    if (now - moment).days > LATEST_DAYS:
        raise _fail(f"{where}.occurred_at", f"is more than {LATEST_DAYS} days old")
    return moment


def _hash(event: dict[str, Any], name: str, where: str) -> str | None:
    value = _text(event, name, where, required=False, limit=64)
    if value is not None and not _HEX64.match(value):
        raise _fail(f"{where}.{name}", "must be a lowercase hex SHA-256 (raw identifiers are refused)")
    return value


def parse_event(event: Any, where: str, now: datetime) -> dict[str, Any]:
    """One event as a row (without attribution), or ValidationFailed naming the field."""
    if not isinstance(event, dict):
        raise _fail(where, "must be an object")
    utm = event.get("utm")
    if utm is not None and (not isinstance(utm, dict) or not all(isinstance(v, str) for v in utm.values())):
        raise _fail(f"{where}.utm", "must be an object of text values")
    consent = event.get("consent", False)
    if not isinstance(consent, bool):
        raise _fail(f"{where}.consent", "must be true or false")
    return {
        "event_id": _text(event, "event_id", where, required=True, limit=128),
        "job_reference": _text(event, "job_reference", where, required=True, limit=128),
        "occurred_at": _moment(event, where, now),
        "received_at": now,
        "click_id": _text(event, "click_id", where, required=False, limit=32),
        "utm": {k: utm[k][:200] for k in _UTM_KEYS if utm.get(k)} if utm else None,
        "email_hash": _hash(event, "email_sha256", where),
        "phone_hash": _hash(event, "phone_sha256", where),
        "consent": consent,
    }


def parse_body(body: Any) -> list[dict[str, Any]]:
    """A postback body: one event object, or {"events": [...]} with up to MAX_BATCH events."""
    now = datetime.now(UTC)
    if isinstance(body, dict) and "events" in body:
        events = body["events"]
        if not isinstance(events, list) or not events:
            raise _fail("events", "must be a non-empty list")
        if len(events) > MAX_BATCH:
            raise _fail("events", f"holds at most {MAX_BATCH} events per postback")
        return [parse_event(event, f"events[{i}]", now) for i, event in enumerate(events)]
    return [parse_event(body, "event", now)]


def ingest(rows: list[dict[str, Any]]) -> IngestResult:
    """Attribute and store parsed events; events already stored (same event id) are acknowledged only."""
    try:
        return _ingest(rows)
    except IntegrityError:  # the same event arrived at the same moment through another process
        db.session.rollback()
        return _ingest(rows, careful=True)


def _ingest(rows: list[dict[str, Any]], *, careful: bool = False) -> IngestResult:
    unique = list({row["event_id"]: row for row in rows}.values())
    settings = current_settings()
    window = settings.tracking_attribution_window_days
    if db.session.connection().dialect.name == "postgresql":  # set-based: COPY, one INSERT … SELECT
        counts = attribution_sql.store(unique, window_days=window, zone=settings.timezone, careful=careful)
    else:
        counts = Counter(row["attribution"] for row in _ingest_rows(unique, window))
    db.session.commit()
    stored = sum(counts.values())
    unattributed = counts.get("unattributed", 0)
    return IngestResult(
        received=len(rows),
        stored=stored,
        duplicates=len(rows) - stored,
        attributed=stored - unattributed,
        unattributed=unattributed,
    )


def _ingest_rows(unique: list[dict[str, Any]], window: int) -> list[dict[str, Any]]:
    """Other databases: attributed in Python (attribution.attribute) and inserted; the rows stored."""
    ids = [row["event_id"] for row in unique]
    known = set(
        db.session.scalars(select(ApplicationEvent.event_id).where(ApplicationEvent.event_id.in_(ids)))
    )
    fresh = [row for row in unique if row["event_id"] not in known]
    attributed = attribute(fresh, window_days=window) if fresh else []
    if attributed:
        db.session.connection().execute(ApplicationEvent.__table__.insert(), attributed)
    return attributed
