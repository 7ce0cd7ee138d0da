"""Attributed applications of consenting candidates, sent to the platform that brought them.

Each application gets one `ConversionUpload` row per platform (unique), so it is queued once. A
sender claims pending rows (`sending`, skipped by other senders while locked), sends them through
the platform's conversions API and marks them `sent`; a failed batch goes back to `pending` until
MAX_ATTEMPTS, then `failed`. A sender that dies mid-send leaves `sending` rows that are claimed
again after CLAIM_TIMEOUT; the platforms deduplicate by our event id, so that retry counts once.
Only hashes leave AdFlux, and only for applications whose candidate consented (erasure withdraws
the consent and deletes the uploads not yet sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from adflux.extensions import db
from adflux.models import ApplicationEvent, Click, ConversionUpload
from adflux.platforms.conversions import Conversion, send_conversions
from adflux.platforms.errors import PlatformError
from adflux.services import platform_access
from adflux.services.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)
CLAIM_BATCH = 2000
QUEUE_DAYS = 30  # applications received in this window are considered for sending


@dataclass
class SendReport:
    queued: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def queue_conversions(*, now: datetime | None = None) -> int:
    """Queue every attributed application of a consenting candidate not queued yet; how many."""
    since = (now or datetime.now(UTC)) - timedelta(days=QUEUE_DAYS)
    queued = exists().where(
        ConversionUpload.application_event_id == ApplicationEvent.id,
        ConversionUpload.platform == ApplicationEvent.platform,
    )
    source = select(ApplicationEvent.id, ApplicationEvent.platform, literal("pending"), literal(0)).where(
        ApplicationEvent.attribution == "attributed",
        ApplicationEvent.consent.is_(True),
        ApplicationEvent.platform.is_not(None),
        ApplicationEvent.received_at >= since,
        ~queued,
    )
    statement = insert(ConversionUpload).from_select(
        ["application_event_id", "platform", "status", "attempts"], source
    )
    try:
        count = len(db.session.execute(statement.returning(ConversionUpload.id)).all())
        db.session.commit()
    except IntegrityError:  # another sender queued the same rows at the same moment
        db.session.rollback()
        return 0
    return int(count)


def _claim(platform: str, now: datetime) -> list[int]:
    """Mark up to CLAIM_BATCH sendable rows of `platform` as `sending`; their ids."""
    stale = now - CLAIM_TIMEOUT
    query = (
        select(ConversionUpload.id)
        .where(
            ConversionUpload.platform == platform,
            or_(
                ConversionUpload.status == "pending",
                and_(ConversionUpload.status == "sending", ConversionUpload.sent_at < stale),
            ),
        )
        .order_by(ConversionUpload.id)
        .limit(CLAIM_BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(ConversionUpload)
            .where(ConversionUpload.id.in_(ids))
            .values(status="sending", sent_at=now, attempts=ConversionUpload.attempts + 1)
        )
    db.session.commit()
    return ids


def _conversions(upload_ids: list[int]) -> list[Any]:
    """(upload id, event, platform click id, click time) of these uploads (consent checked again)."""
    return list(
        db.session.execute(
            select(ConversionUpload.id, ApplicationEvent, Click.platform_click_id, Click.at)
            .join(ApplicationEvent, ApplicationEvent.id == ConversionUpload.application_event_id)
            .outerjoin(Click, Click.click_id == ApplicationEvent.attributed_click_id)
            .where(ConversionUpload.id.in_(upload_ids), ApplicationEvent.consent.is_(True))
        ).all()
    )


def _send_platform(platform: str, report: SendReport, now: datetime) -> int:
    """Send one claimed batch of `platform`; how many uploads it claimed (0: nothing left)."""
    ids = _claim(platform, now)
    if not ids:
        return 0
    rows = _conversions(ids)
    by_event = {event.event_id: upload for upload, event, _, _ in rows}
    conversions = [
        Conversion(
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            click_id=click_id,
            clicked_at=clicked_at,
            email_hash=event.email_hash,
            phone_hash=event.phone_hash,
            job_reference=event.job_reference,
        )
        for _, event, click_id, clicked_at in rows
    ]
    gone = set(ids) - set(by_event.values())  # consent withdrawn since queued: never sent
    _mark(gone, status="skipped", error="no consent")
    try:
        adapter, _ = platform_access.adapter_for(platform)
        with adapter:
            result = send_conversions(adapter, conversions, now=now)
    except (PlatformError, ServiceUnavailable) as error:  # refused, or no platform reachable
        _fail(list(by_event.values()), str(error))
        report.failed[platform] = str(error)
        logger.warning("conversions to %s failed: %s", platform, error)
        return 0
    _mark({by_event[event] for event in result.sent}, status="sent", sent_at=datetime.now(UTC))
    for event, reason in result.skipped.items():
        _mark({by_event[event]}, status="skipped", error=reason)
    report.sent[platform] = report.sent.get(platform, 0) + len(result.sent)
    report.skipped[platform] = report.skipped.get(platform, 0) + len(result.skipped) + len(gone)
    return len(ids)


def _mark(ids: set[int], *, status: str, error: str | None = None, sent_at: datetime | None = None) -> None:
    if ids:
        values: dict[str, object] = {"status": status, "error": error}
        if sent_at is not None:
            values["sent_at"] = sent_at
        db.session.execute(update(ConversionUpload).where(ConversionUpload.id.in_(ids)).values(**values))
    db.session.commit()


def _fail(ids: list[int], message: str) -> None:
    """A failed batch: back to pending for the next run, or failed after MAX_ATTEMPTS."""
    if not ids:
        return
    db.session.execute(
        update(ConversionUpload)
        .where(ConversionUpload.id.in_(ids), ConversionUpload.attempts >= MAX_ATTEMPTS)
        .values(status="failed", error=message[:2000])
    )
    db.session.execute(
        update(ConversionUpload)
        .where(ConversionUpload.id.in_(ids), ConversionUpload.attempts < MAX_ATTEMPTS)
        .values(status="pending", error=message[:2000])
    )
    db.session.commit()


def send_pending(*, platforms: tuple[str, ...] | None = None, now: datetime | None = None) -> SendReport:
    """Queue new conversions, then send what is pending to each platform (one failing platform does
    not hold back the others)."""
    moment = now or datetime.now(UTC)
    report = SendReport(queued=queue_conversions(now=moment))
    waiting = db.session.scalars(
        select(ConversionUpload.platform)
        .where(ConversionUpload.status.in_(("pending", "sending")))
        .distinct()
    ).all()
    for platform in sorted(waiting):
        if platforms is None or platform in platforms:
            while _send_platform(platform, report, moment):
                pass
    return report


def upload_counts() -> dict[str, dict[str, int]]:
    """Uploads per platform and status (for the report and the CLI)."""
    out: dict[str, dict[str, int]] = {}
    rows = db.session.execute(
        select(ConversionUpload.platform, ConversionUpload.status, db.func.count()).group_by(
            ConversionUpload.platform, ConversionUpload.status
        )
    )
    for platform, status, count in rows:
        out.setdefault(platform, {})[status] = int(count)
    return out
