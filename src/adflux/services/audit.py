"""The audit trail: every change records who, what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import AuditEvent
from adflux.services.pagination import Keyset, Page, paginate


def record(
    action: str,
    *,
    entity_type: str,
    entity_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    actor_id, actor, request_id = None, "system", None
    if has_request_context():
        user = g.get("current_user")
        if user is not None:
            actor_id, actor = user.id, user.email
        request_id = g.get("request_id")
    event = AuditEvent(
        actor_id=actor_id,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        request_id=request_id,
    )
    db.session.add(event)
    return event


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A JSON-able picture of `fields` of `obj` for before/after records."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def list_events(
    *,
    page: int = 1,
    page_size: int = 20,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
) -> Page[AuditEvent]:
    """Audit events, newest first; `action` may end in * to match a prefix (e.g. "campaign.*")."""
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action and action.endswith("*"):
        prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditEvent.action.like(prefix + "%", escape="\\"))
    elif action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    newest_first = Keyset((AuditEvent.at, AuditEvent.id), descending=True)
    return paginate(stmt, page=page, page_size=page_size, keyset=newest_first, cursor=cursor)
