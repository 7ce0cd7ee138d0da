"""The alert evaluator: runs every rule's check, opens and resolves Alert rows, then notifies.

Life of an alert: a rule's check reports a condition for a key ("queue:sync", "campaign:12");
if no alert is open for that rule and key one is opened and notified (webhook, e-mail). While
the condition holds the alert stays open and is only refreshed (value, message) — never
notified again. When the check no longer reports the key the alert is resolved and a "resolved"
notice goes out. A check that *errors* (say the broker is unreachable) leaves its rule's alerts
as they are: not knowing is not the same as being fine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux.catalogue import Message
from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring import instances
from adflux.monitoring.alert_names import MESSAGE_KEY
from adflux.monitoring.alert_rules import RULES, AlertRule, render
from adflux.services.alerting.checks import CHECKS, Context, Firing, NotApplicable
from adflux.services.alerting.notifications import notify_pending
from adflux.settings import current_settings

logger = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    """What one evaluation run did."""

    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    still_open: list[int] = field(default_factory=list)
    notified: int = 0
    notify_failures: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "still_open": self.still_open,
            "notified": self.notified,
            "notify_failures": self.notify_failures,
            "errors": self.errors,
            "skipped": self.skipped,
        }


def evaluate(
    *, now: datetime | None = None, rules: tuple[str, ...] | None = None, notify: bool = True
) -> EvaluationResult:
    """Run every rule's check, open and resolve alerts, then send the notifications due."""
    ctx = Context(settings=current_settings(), now=now or datetime.now(UTC))
    result = EvaluationResult()
    for rule in RULES:
        if rules is not None and rule.name not in rules:
            continue
        try:
            firings = CHECKS[rule.name](ctx)
        except NotApplicable:
            firings = []
            result.skipped.append(rule.name)
        except Exception as exc:
            db.session.rollback()
            result.errors[rule.name] = (
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )
            logger.warning("alert rule %s could not be evaluated: %s", rule.name, result.errors[rule.name])
            continue
        _apply(rule, firings, ctx, result)
    if rules is None:
        instances.mark_evaluated(ctx.settings, at=ctx.now.timestamp())
    if notify:
        notified = notify_pending(ctx.settings)
        result.notified += notified.sent
        result.notify_failures += notified.failed
    return result


def _apply(rule: AlertRule, firings: list[Firing], ctx: Context, result: EvaluationResult) -> None:
    """Open, refresh and resolve this rule's alerts in one transaction."""
    by_key = {f.key: f for f in firings}
    open_alerts = {
        a.key: a
        for a in db.session.scalars(select(Alert).where(Alert.rule == rule.name, Alert.status == "open"))
    }
    resolved, refreshed = [], []
    for key, alert in open_alerts.items():
        firing = by_key.get(key)
        if firing is None:
            alert.status, alert.resolved_at = "resolved", ctx.now
            alert.details = {**(alert.details or {}), "resolve_notified": False}
            resolved.append(alert)
        else:
            alert.message, alert.value, alert.threshold = firing.message, firing.value, firing.threshold
            alert.severity = firing.severity or rule.severity
            alert.details = {
                **(alert.details or {}),
                **_jsonable(firing.details),
                **_said(firing),
                "last_seen_at": ctx.now.isoformat(),
            }
            refreshed.append(alert)
    new = [
        Alert(
            rule=rule.name,
            key=key,
            severity=firing.severity or rule.severity,
            status="open",
            message=firing.message,
            value=firing.value,
            threshold=firing.threshold,
            details={
                **_jsonable(firing.details),
                **_said(firing),
                "summary": render(rule, ctx.settings)["summary"],
            },
            opened_at=ctx.now,
        )
        for key, firing in by_key.items()
        if key not in open_alerts
    ]
    db.session.add_all(new)
    try:
        db.session.commit()
    except IntegrityError:
        # Another evaluator opened the same alert a moment ago (the partial unique index held).
        db.session.rollback()
        logger.info("alert rule %s: another evaluator got there first", rule.name)
        return
    for alert in new:
        result.opened.append(alert.id)
        logger.warning("alert opened: %s %s: %s", alert.rule, alert.key, alert.message)
    for alert in resolved:
        result.resolved.append(alert.id)
        logger.info("alert resolved: %s %s", alert.rule, alert.key)
    result.still_open += [alert.id for alert in refreshed]


def _said(firing: Firing) -> dict[str, Any]:
    """How to say the message again in the reader's language (`alerting.names.alert_message`)."""
    return {MESSAGE_KEY: firing.message.stored()} if isinstance(firing.message, Message) else {}


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in details.items()}
