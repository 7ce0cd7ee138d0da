"""A feed's records against the database: what is new, changed, unchanged, closed or reopened,
and writing that in one transaction.

Only the reference, fingerprint and status of the feed's openings are loaded (one Core query),
not ORM rows; only new and changed records are validated. An opening the feed stops listing,
lists as closed or filled, or lists past its expiry is closed with that reason; a manager's own
close is never undone by a feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import insert, select, update

from adflux.extensions import db
from adflux.models import JobOpening
from adflux.models.base import utcnow
from adflux.schemas.jobs import JobOpeningSchema
from adflux.services.feeds.fields import FeedRecord

MAX_REPORTED_ERRORS = 500
CHUNK = 1000
# Changes that alter what an ad says or whom it reaches (a new description alone does not).
MATERIAL_FIELDS = (
    "title",
    "company",
    "city",
    "department",
    "category",
    "modality",
    "salary_min",
    "salary_max",
)
FEED_CLOSE_REASONS = ("feed_gone", "feed_closed", "expired")
_SCHEMA = JobOpeningSchema(unknown=EXCLUDE)
# What a column gets when a feed row leaves it out (the model's defaults).
_DEFAULTS: dict[str, Any] = {
    "country": "CO",
    "salary_currency": "COP",
    "description": "",
    "experience_years_min": 0,
}


@dataclass
class Existing:
    id: int
    fingerprint: str | None
    status: str
    close_reason: str | None


@dataclass
class JobEvent:
    """What happened to one opening in a run (what the campaign loop follows)."""

    job_id: int
    kind: str  # new | changed | closed | reopened
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Diff:
    listed: int = 0
    unchanged: int = 0
    new: list[tuple[FeedRecord, dict[str, Any]]] = field(default_factory=list)
    changed: list[tuple[int, FeedRecord, dict[str, Any]]] = field(default_factory=list)
    closing: list[tuple[int, str]] = field(default_factory=list)  # (job id, reason)
    reopening: list[int] = field(default_factory=list)
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, record: FeedRecord, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(
                {record.where[0]: record.where[1], "external_ref": record.external_ref, "reason": reason}
            )


def compute(feed_id: int, records: Iterable[FeedRecord], *, now: datetime | None = None) -> Diff:
    """Compare every record with what the database holds; nothing is written."""
    now = now or utcnow()
    known = _feed_rows(feed_id)
    diff = Diff()
    seen: set[str] = set()
    outsiders: list[FeedRecord] = []
    for record in records:
        diff.listed += 1
        if record.error or record.external_ref is None:
            diff.reject(record, record.error or "no reference")
            continue
        if record.external_ref in seen:
            diff.reject(record, f"reference {record.external_ref!r} listed twice (the first one counts)")
            continue
        seen.add(record.external_ref)
        row = known.get(record.external_ref)
        if row is None:
            outsiders.append(record)
            if len(outsiders) >= CHUNK:
                _classify_outsiders(diff, outsiders, feed_id, now)
                outsiders = []
            continue
        _classify(diff, record, row, now)
    _classify_outsiders(diff, outsiders, feed_id, now)
    for ref, row in known.items():
        if ref not in seen and row.status == "open":
            diff.closing.append((row.id, "feed_gone"))
    return diff


def _classify(diff: Diff, record: FeedRecord, row: Existing, now: datetime) -> None:
    if row.fingerprint == record.fingerprint:
        diff.unchanged += 1
    else:
        data = _valid(diff, record)
        if data is None:
            return  # a refused record changes nothing, its status included
        diff.changed.append((row.id, record, data))
    ends = record.closed or (record.expires_at is not None and record.expires_at <= now)
    if ends and row.status == "open":
        diff.closing.append((row.id, "feed_closed" if record.closed else "expired"))
    elif not ends and row.status == "closed" and row.close_reason in FEED_CLOSE_REASONS:
        diff.reopening.append(row.id)


def _classify_outsiders(diff: Diff, records: list[FeedRecord], feed_id: int, now: datetime) -> None:
    """Records whose reference this feed never listed: new openings, or ones made by hand or
    another feed (taken over by this feed from now on)."""
    if not records:
        return
    refs = [r.external_ref for r in records]
    rows = {
        ref: Existing(id_, fp, status, reason)
        for ref, id_, fp, status, reason in db.session.execute(
            select(
                JobOpening.external_ref,
                JobOpening.id,
                JobOpening.content_hash,
                JobOpening.status,
                JobOpening.close_reason,
            ).where(JobOpening.external_ref.in_(refs))
        )
    }
    for record in records:
        row = rows.get(record.external_ref or "")
        if row is not None:
            row.fingerprint = None  # taken over: write this feed's fields and fingerprint
            _classify(diff, record, row, now)
            continue
        if record.closed or (record.expires_at is not None and record.expires_at <= now):
            diff.unchanged += 1  # listed closed or expired and never advertised: nothing to do
            continue
        data = _valid(diff, record)
        if data is not None:
            diff.new.append((record, data))


def _valid(diff: Diff, record: FeedRecord) -> dict[str, Any] | None:
    try:
        return dict(_SCHEMA.load(record.fields))
    except ValidationError as exc:
        diff.reject(record, _flatten(exc.messages))
        return None


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(
            f"{k}: {_flatten(v)}" if k != "_schema" else _flatten(v) for k, v in messages.items()
        )
    if isinstance(messages, list):
        return " ".join(_flatten(m) for m in messages)
    return str(messages)


def _feed_rows(feed_id: int) -> dict[str, Existing]:
    rows = db.session.execute(
        select(
            JobOpening.external_ref,
            JobOpening.id,
            JobOpening.content_hash,
            JobOpening.status,
            JobOpening.close_reason,
        ).where(JobOpening.feed_id == feed_id)
    )
    return {ref: Existing(id_, fp, status, reason) for ref, id_, fp, status, reason in rows}


# -- writing ------------------------------------------------------------------------------------


def apply(feed_id: int, diff: Diff, *, now: datetime | None = None) -> list[JobEvent]:
    """Write the diff (the caller commits, so a run is written whole or not at all)."""
    now = now or utcnow()
    events: list[JobEvent] = []
    if diff.new:
        rows = [
            _row(feed_id, record, data, now) | {"status": "open", "created_at": now}
            for record, data in diff.new
        ]
        # Core, every row with the same keys and no RETURNING: one multi-row INSERT per chunk
        # (the ORM's bulk path sends a statement per few rows when the rows' keys differ).
        columns = sorted({key for row in rows for key in row})
        for start in range(0, len(rows), CHUNK):
            chunk = [
                {key: row.get(key, _DEFAULTS.get(key)) for key in columns}
                for row in rows[start : start + CHUNK]
            ]
            db.session.execute(insert(JobOpening.__table__), chunk)
        ids = _ids([record.external_ref or "" for record, _ in diff.new])
        events += [JobEvent(ids[record.external_ref or ""], "new") for record, _ in diff.new]
    if diff.changed:
        events += _apply_changes(feed_id, diff.changed, now)
    reopen = set(diff.reopening)
    if reopen:
        for chunk in _chunks(sorted(reopen)):
            db.session.execute(
                update(JobOpening)
                .where(JobOpening.id.in_(chunk))
                .values(status="open", closed_at=None, close_reason=None, updated_at=now)
            )
        events += [JobEvent(job_id, "reopened") for job_id in sorted(reopen)]
    for reason in FEED_CLOSE_REASONS:
        ids_closing = sorted({job_id for job_id, why in diff.closing if why == reason})
        for chunk in _chunks(ids_closing):
            db.session.execute(
                update(JobOpening)
                .where(JobOpening.id.in_(chunk), JobOpening.status == "open")
                .values(status="closed", closed_at=now, close_reason=reason, updated_at=now)
            )
        events += [JobEvent(job_id, "closed", {"reason": reason}) for job_id in ids_closing]
    return events


def close_expired(feed_id: int, *, now: datetime | None = None) -> list[JobEvent]:
    """Close this feed's open openings whose expiry has passed (the caller commits)."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            select(JobOpening.id).where(
                JobOpening.feed_id == feed_id, JobOpening.status == "open", JobOpening.expires_at <= now
            )
        )
    )
    for chunk in _chunks(ids):
        db.session.execute(
            update(JobOpening)
            .where(JobOpening.id.in_(chunk))
            .values(status="closed", closed_at=now, close_reason="expired", updated_at=now)
        )
    return [JobEvent(job_id, "closed", {"reason": "expired"}) for job_id in ids]


def _apply_changes(
    feed_id: int, changed: list[tuple[int, FeedRecord, dict[str, Any]]], now: datetime
) -> list[JobEvent]:
    ids = [job_id for job_id, _, _ in changed]
    before: dict[int, dict[str, Any]] = {}
    columns = [getattr(JobOpening, name) for name in MATERIAL_FIELDS]
    for chunk in _chunks(ids):
        for row in db.session.execute(select(JobOpening.id, *columns).where(JobOpening.id.in_(chunk))):
            before[row[0]] = dict(zip(MATERIAL_FIELDS, row[1:], strict=True))
    rows = [_row(feed_id, record, data, now) | {"id": job_id} for job_id, record, data in changed]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(update(JobOpening), rows[start : start + CHUNK])
    events = []
    for job_id, _, data in changed:
        was = before.get(job_id, {})
        moved = {k: [was.get(k), data.get(k)] for k in MATERIAL_FIELDS if was.get(k) != data.get(k)}
        if moved:
            events.append(JobEvent(job_id, "changed", {"fields": moved}))
    return events


def _row(feed_id: int, record: FeedRecord, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        **data,
        "feed_id": feed_id,
        "content_hash": record.fingerprint,
        "expires_at": record.expires_at,
        "updated_at": now,
    }


def _ids(refs: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(refs):
        rows = db.session.execute(
            select(JobOpening.external_ref, JobOpening.id).where(JobOpening.external_ref.in_(chunk))
        )
        found.update((ref, job_id) for ref, job_id in rows)
    return found


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
