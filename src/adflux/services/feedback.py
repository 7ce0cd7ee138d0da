"""Feedback from the dashboard ("Sugerencias"): stored, listed for admins, counted per week."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Feedback, User
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.pagination import Page, paginate

KINDS = ("idea", "problem", "other")
MAX_MESSAGE = 2000
MIN_MESSAGE = 5


def submit_feedback(
    *, kind: str, message: str, page: str | None = None, user_id: int | None = None
) -> Feedback:
    """Store one suggestion; the message is required (5–2,000 characters), the kind one of KINDS."""
    text = (message or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [f"Must be one of {', '.join(KINDS)}."]
    if len(text) < MIN_MESSAGE:
        errors["message"] = [f"Write at least {MIN_MESSAGE} characters."]
    elif len(text) > MAX_MESSAGE:
        errors["message"] = [f"At most {MAX_MESSAGE:,} characters."]
    if errors:
        raise ValidationFailed(_("The suggestion could not be saved."), errors=errors)
    item = Feedback(kind=kind, message=text, page=(page or "")[:200] or None, user_id=user_id)
    db.session.add(item)
    db.session.commit()
    return item


def list_feedback(*, status: str | None = None, page: int = 1, page_size: int = 25) -> Page[Any]:
    """Suggestions, newest first, with who sent them (for admins)."""
    stmt: Any = select(
        Feedback.id,
        Feedback.kind,
        Feedback.message,
        Feedback.page,
        Feedback.status,
        Feedback.created_at,
        User.email.label("email"),
    ).outerjoin(User, User.id == Feedback.user_id)
    if status:
        stmt = stmt.where(Feedback.status == status)
    ordered = stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc())
    return paginate(ordered, page=page, page_size=page_size, as_dicts=True)


def mark_read(*, feedback_id: int) -> Feedback:
    """Mark a suggestion as read."""
    item = db.session.get(Feedback, feedback_id)
    if item is None:
        raise NotFound(_("Suggestion %(feedback_id)s does not exist.", feedback_id=feedback_id))
    item.status = "read"
    db.session.commit()
    return item


def counts_between(start: datetime, end: datetime) -> dict[str, int]:
    """Suggestions received in [start, end), by kind (every kind listed)."""
    rows = db.session.execute(
        select(Feedback.kind, func.count())
        .where(Feedback.created_at >= start, Feedback.created_at < end)
        .group_by(Feedback.kind)
    ).all()
    found = {kind: 0 for kind in KINDS}
    found.update({kind: int(n) for kind, n in rows})
    return found
