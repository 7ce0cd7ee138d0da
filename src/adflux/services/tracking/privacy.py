"""Ley 1581 de 2012 for first-hand measurement: retention of raw data and erasure on request.

Raw clicks and application events are deleted once older than ADFLUX_TRACKING_RETENTION_DAYS.
A candidate's erasure removes every hashed identifier AdFlux holds for them from application
events (the anonymous count stays, so reports do not change) and cancels their pending conversion
uploads; an audit record says when, by whom and how many rows, never the identifier itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import ApplicationEvent, Click, ConversionUpload
from adflux.services import audit
from adflux.services.errors import ValidationFailed
from adflux.settings import current_settings

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PruneResult:
    clicks: int
    events: int


def prune(*, retention_days: int | None = None, now: datetime | None = None) -> PruneResult:
    """Delete clicks and application events older than the retention (default: the setting)."""
    days = current_settings().tracking_retention_days if retention_days is None else retention_days
    if days < 1:
        raise ValidationFailed(_("retention must be at least 1 day"), errors={"retention_days": ["below 1"]})
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    clicks = _count(db.session.execute(delete(Click).where(Click.at < cutoff)))
    events = _count(db.session.execute(delete(ApplicationEvent).where(ApplicationEvent.received_at < cutoff)))
    db.session.commit()
    return PruneResult(clicks=clicks, events=events)


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


def identifier_hash(value: str, *, kind: str) -> str:
    """The SHA-256 AdFlux keeps for an e-mail (trimmed, lowercase) or a phone (digits, with country code)."""
    value = value.strip()
    if _HEX64.match(value):
        return value
    if kind == "email":
        normal = value.lower()
        if "@" not in normal:
            raise ValidationFailed(_("not an e-mail address"), errors={"email": ["not an e-mail address"]})
    else:
        normal = re.sub(r"\D", "", value)
        if len(normal) < 7:
            raise ValidationFailed(_("not a phone number"), errors={"phone": ["not a phone number"]})
        if len(normal) == 10:
            normal = "57" + normal  # a Colombian mobile number without its country code
    return hashlib.sha256(normal.encode()).hexdigest()


def erase(*, email: str | None = None, phone: str | None = None) -> int:
    """Erase a candidate's identifiers from first-hand data; the number of application events touched."""
    hashes = []
    if email:
        hashes.append(identifier_hash(email, kind="email"))
    if phone:
        hashes.append(identifier_hash(phone, kind="phone"))
    if not hashes:
        raise ValidationFailed(_("give an e-mail or a phone to erase"), errors={"email": ["required"]})
    match = or_(ApplicationEvent.email_hash.in_(hashes), ApplicationEvent.phone_hash.in_(hashes))
    ids = list(db.session.scalars(select(ApplicationEvent.id).where(match)))
    if ids:
        db.session.execute(
            delete(ConversionUpload).where(
                ConversionUpload.application_event_id.in_(ids), ConversionUpload.status != "sent"
            )
        )
        db.session.execute(
            update(ApplicationEvent)
            .where(ApplicationEvent.id.in_(ids))
            .values(email_hash=None, phone_hash=None, consent=False)
        )
    audit.record(
        "tracking.erase",
        entity_type="candidate_identifiers",
        after={"application_events": len(ids), "by": ["email"] * bool(email) + ["phone"] * bool(phone)},
    )
    db.session.commit()
    return len(ids)
