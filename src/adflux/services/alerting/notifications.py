"""Alert notifications: webhook, e-mail and SMS, once when an alert opens and once when it resolves.

Sent after the evaluator's transaction commits, so the database is the record of what was
opened; a notification that fails is retried on the next run (up to MAX_NOTIFY_ATTEMPTS).
The webhook gets every alert; e-mail and SMS only the severities configured for each
(ADFLUX_ALERT_EMAIL_SEVERITIES, ADFLUX_ALERT_SMS_SEVERITIES: by default SMS for critical only).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring.alert_rules import RULES_BY_NAME, render
from adflux.services.alerting.mailer import send_mail
from adflux.services.alerting.sms import send_sms
from adflux.settings import Settings, parse_severities

logger = logging.getLogger(__name__)

MAX_NOTIFY_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 5.0


class Notified(NamedTuple):
    """How many notifications one run sent, and how many failed (to be retried next run)."""

    sent: int = 0
    failed: int = 0


def notify_pending(settings: Settings) -> Notified:
    """Send what is due: newly opened alerts not yet notified, and resolutions not yet announced."""
    if not (settings.alert_webhook_url or settings.alert_email_to or settings.alert_sms_to):
        return Notified()
    opened = db.session.scalars(
        select(Alert).where(Alert.status == "open", Alert.notified_at.is_(None)).order_by(Alert.id)
    ).all()
    resolved = [
        a
        for a in db.session.scalars(
            select(Alert)
            .where(Alert.status == "resolved", Alert.notifications > 0)
            .where(Alert.resolved_at >= datetime.now(UTC) - timedelta(days=1))
            .order_by(Alert.id)
        )
        if (a.details or {}).get("resolve_notified") is False
    ]
    sent = failed = 0
    for alert, kind in [(a, "firing") for a in opened] + [(a, "resolved") for a in resolved]:
        attempts = int((alert.details or {}).get(f"{kind}_attempts", 0))
        if attempts >= MAX_NOTIFY_ATTEMPTS:
            continue
        ok = send_notification(alert, kind, settings)
        details = dict(alert.details or {})
        details[f"{kind}_attempts"] = attempts + 1
        if ok:
            sent += 1
            if kind == "firing":
                alert.notified_at = datetime.now(UTC)
                alert.notifications = (alert.notifications or 0) + 1
            else:
                details["resolve_notified"] = True
                alert.notifications = (alert.notifications or 0) + 1
        else:
            failed += 1
        alert.details = details
        db.session.commit()
    return Notified(sent, failed)


def alert_payload(alert: Alert, kind: str, settings: Settings) -> dict[str, Any]:
    """Alertmanager's webhook shape (version 4), so receivers written for it work unchanged."""
    rule = RULES_BY_NAME.get(alert.rule)
    summary = render(rule, settings)["summary"] if rule else alert.rule
    description = render(rule, settings)["description"] if rule else ""
    labels = {"alertname": alert.rule, "severity": alert.severity, "key": alert.key, "service": "adflux"}
    item = {
        "status": kind,
        "labels": labels,
        "annotations": {"summary": summary, "description": description, "message": alert.message},
        "startsAt": alert.opened_at.isoformat(),
        "endsAt": alert.resolved_at.isoformat() if alert.resolved_at else "0001-01-01T00:00:00Z",
        "fingerprint": f"adflux-{alert.id}",
        "value": alert.value,
        "threshold": alert.threshold,
        "id": alert.id,
    }
    return {
        "version": "4",
        "receiver": "adflux",
        "status": kind,
        "groupKey": f"adflux:{alert.rule}:{alert.key}",
        "groupLabels": {"alertname": alert.rule},
        "commonLabels": labels,
        "commonAnnotations": item["annotations"],
        "alerts": [item],
    }


def send_notification(alert: Alert, kind: str, settings: Settings) -> bool:
    """Notify on each configured channel that takes this severity; True if every one took it."""
    ok = True
    channels = channels_for(alert.severity, settings)
    if "webhook" in channels:
        ok &= send_webhook(alert_payload(alert, kind, settings), settings.alert_webhook_url or "")
    if "email" in channels:
        ok &= _send_email(alert, kind, settings)
    if "sms" in channels:
        ok &= send_sms(alert, kind, settings)
    return ok


def channels_for(severity: str, settings: Settings) -> list[str]:
    """The configured channels an alert of `severity` goes to: who gets SMS vs e-mail."""
    channels = []
    if settings.alert_webhook_url:
        channels.append("webhook")
    if settings.alert_email_to and severity in parse_severities(settings.alert_email_severities):
        channels.append("email")
    if settings.alert_sms_to and severity in parse_severities(settings.alert_sms_severities):
        channels.append("sms")
    return channels


def send_webhook(payload: dict[str, Any], url: str) -> bool:
    """POST one JSON payload to the webhook; True if it answered 2xx."""
    try:
        response = httpx.post(url, json=payload, timeout=WEBHOOK_TIMEOUT)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # Only the host: webhook URLs often carry a secret in their path (Slack, Teams).
        logger.warning("alert webhook to %s failed: %s", urlsplit(url).hostname, type(exc).__name__)
        return False
    return True


def _send_email(alert: Alert, kind: str, settings: Settings) -> bool:
    recipients = [a.strip() for a in settings.alert_email_to.split(",") if a.strip()]
    state = "RESOLVED" if kind == "resolved" else alert.severity.upper()
    rule = RULES_BY_NAME.get(alert.rule)
    lines = [
        alert.message,
        "",
        f"Rule: {alert.rule} ({alert.severity})",
        f"Key: {alert.key or '-'}",
        f"Opened: {alert.opened_at:%Y-%m-%d %H:%M} UTC",
    ]
    if alert.resolved_at:
        lines.append(f"Resolved: {alert.resolved_at:%Y-%m-%d %H:%M} UTC")
    if rule:
        lines += ["", render(rule, settings)["description"]]
    lines += ["", "History: adflux alerts --all, or GET /api/v1/alerts"]
    subject = f"[AdFlux] {state}: {alert.rule} {alert.key}".strip()
    return send_email(subject, "\n".join(lines), recipients, settings)


def send_email(subject: str, body: str, recipients: list[str], settings: Settings) -> bool:
    """One plain-text e-mail through the configured SMTP server; True if the server took it."""
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    return send_mail(message, settings)
