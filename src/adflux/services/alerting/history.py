"""Reading alerts: their history (open and resolved) and the rules with this deployment's thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring.alert_rules import rules_as_dicts
from adflux.services.errors import NotFound
from adflux.services.pagination import Page, paginate
from adflux.settings import current_settings


def list_alerts(
    *,
    page: int = 1,
    page_size: int = 20,
    status: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[Alert]:
    """Alerts, newest first, filtered by status, rule, severity, key and opening time."""
    stmt = select(Alert)
    if status:
        stmt = stmt.where(Alert.status == status)
    if rule:
        stmt = stmt.where(Alert.rule == rule)
    if severity:
        stmt = stmt.where(Alert.severity == severity)
    if key:
        stmt = stmt.where(Alert.key == key)
    if since:
        stmt = stmt.where(Alert.opened_at >= since)
    if until:
        stmt = stmt.where(Alert.opened_at < until)
    return paginate(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()), page=page, page_size=page_size)


def get_alert(*, alert_id: int) -> Alert:
    """One alert, or NotFound."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(_("Alert %(alert_id)s does not exist", alert_id=alert_id))
    return alert


def list_rules() -> list[dict[str, Any]]:
    """Every alert rule with this deployment's thresholds."""
    return rules_as_dicts(current_settings())
