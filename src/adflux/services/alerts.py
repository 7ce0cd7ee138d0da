"""The alert evaluator: checks every rule, opens and resolves Alert rows, notifies once.

Life of an alert: a rule's check reports a condition for a key ("queue:sync", "campaign:12");
if no alert is open for that rule and key one is opened and notified (webhook, e-mail). While
the condition holds the alert stays open and is only refreshed (value, message) — never
notified again. When the check no longer reports the key the alert is resolved and a "resolved"
notice goes out. A check that *errors* (say the broker is unreachable) leaves its rule's alerts
as they are: not knowing is not the same as being fine.

Notifications are sent after the transaction commits, so the database is the record of what
was opened; a notification that fails is retried on the next run (up to MAX_NOTIFY_ATTEMPTS).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux.constants import QUEUES
from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring import facts, request_stats
from adflux.monitoring.alert_rules import RULES, RULES_BY_NAME, AlertRule, render, rules_as_dicts
from adflux.monitoring.broker import queue_lengths, redis_client
from adflux.services.errors import NotFound
from adflux.services.pagination import Page, paginate
from adflux.settings import Settings, current_settings, parse_api_version_sunsets

logger = logging.getLogger(__name__)

MAX_NOTIFY_ATTEMPTS = 5
WEBHOOK_TIMEOUT = 5.0
SMTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Firing:
    """A rule's condition holding for one key, with the value that crossed the threshold."""

    key: str
    message: str
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's severity (e.g. an already expired token)


class NotApplicable(Exception):
    """The rule does not apply to this deployment (no broker, SQLite, ...): nothing fires."""


@dataclass
class Context:
    settings: Settings
    now: datetime


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


# ---- the checks, one per rule ----------------------------------------------------------------


def _error_rate(ctx: Context) -> list[Firing]:
    s = ctx.settings
    totals = request_stats.window_totals(minutes=s.alert_window_minutes, now=ctx.now)
    if totals["requests"] < s.alert_min_requests:
        return []
    rate = totals["errors"] / totals["requests"]
    if rate <= s.alert_error_rate:
        return []
    return [
        Firing(
            key="",
            value=round(rate, 4),
            threshold=s.alert_error_rate,
            message=(
                f"{rate:.1%} of {totals['requests']} requests failed in the last "
                f"{s.alert_window_minutes} min (threshold {s.alert_error_rate:.0%})"
            ),
            details={"window_minutes": s.alert_window_minutes, **totals},
        )
    ]


def _latency(ctx: Context) -> list[Firing]:
    s = ctx.settings
    totals = request_stats.window_totals(minutes=s.alert_window_minutes, now=ctx.now)
    if totals["requests"] < s.alert_min_requests:
        return []
    average = totals["seconds"] / totals["requests"]
    if average <= s.alert_latency_seconds:
        return []
    return [
        Firing(
            key="",
            value=round(average, 3),
            threshold=s.alert_latency_seconds,
            message=(
                f"Average response time {average:.2f} s over {totals['requests']} requests in the last "
                f"{s.alert_window_minutes} min (threshold {s.alert_latency_seconds:g} s)"
            ),
            details={"window_minutes": s.alert_window_minutes, **totals},
        )
    ]


def _queue_backlog(ctx: Context) -> list[Firing]:

    if redis_client(ctx.settings) is None:
        raise NotApplicable("no Redis broker: tasks run inline")
    limit = ctx.settings.alert_queue_backlog
    return [
        Firing(
            key=f"queue:{queue}",
            value=n,
            threshold=limit,
            message=f"{n} tasks waiting in queue {queue} (threshold {limit})",
        )
        for queue, n in queue_lengths(ctx.settings, QUEUES).items()
        if n > limit
    ]


def _no_worker(ctx: Context) -> list[Firing]:
    from adflux.services.health import ping_workers

    workers = ping_workers(timeout=min(ctx.settings.health_timeout_seconds, 2.0))
    if workers is None:
        raise NotApplicable("embedded mode: no workers needed")
    if workers:
        return []
    return [Firing(key="", value=0, message="No Celery worker answered a ping; background work is stalled")]


def _broker(ctx: Context) -> list[Firing]:
    client = redis_client(ctx.settings)
    if client is None:
        raise NotApplicable("no Redis broker")
    try:
        client.ping()
    except Exception as exc:
        return [Firing(key="", message=f"The broker does not answer: {type(exc).__name__}")]
    return []


def _db_connections(ctx: Context) -> list[Firing]:
    found = facts.database_connections()
    if found is None:
        raise NotApplicable("not PostgreSQL")
    limit = ctx.settings.alert_db_connection_ratio
    if found.ratio <= limit:
        return []
    return [
        Firing(
            key="",
            value=round(found.ratio, 3),
            threshold=limit,
            message=(
                f"{found.in_use} of {found.max_connections} PostgreSQL connections in use "
                f"({found.ratio:.0%}, threshold {limit:.0%})"
            ),
            details={"in_use": found.in_use, "max_connections": found.max_connections},
        )
    ]


def _database_cpu(ctx: Context) -> list[Firing]:
    if not facts.database_is_local():
        raise NotApplicable("the database runs on another host; use its own CPU monitoring")
    load = facts.cpu_load_ratio()
    if load is None:
        raise NotApplicable("this OS does not expose a load average")
    limit = ctx.settings.alert_cpu_ratio
    if load <= limit:
        return []
    return [
        Firing(
            key="",
            value=round(load, 3),
            threshold=limit,
            message=f"Database host load {load:.0%} of its CPUs (threshold {limit:.0%})",
        )
    ]


def _disk_space(ctx: Context) -> list[Firing]:
    limit = ctx.settings.alert_disk_free_ratio
    out = []
    for volume, (free, total) in facts.disk_usage(ctx.settings).items():
        ratio = free / total if total else 1.0
        if ratio < limit:
            out.append(
                Firing(
                    key=f"volume:{volume}",
                    value=round(ratio, 4),
                    threshold=limit,
                    message=f"Only {ratio:.1%} free on the {volume} disk ({free / 2**30:.1f} GiB)",
                    details={"free_bytes": free, "size_bytes": total},
                )
            )
    return out


def _platform_throttling(ctx: Context) -> list[Firing]:
    from adflux.services.health import check_platforms

    limit = ctx.settings.alert_throttle_headroom
    found: dict[str, Firing] = {}
    # Publishes that gave up throttled in the last hour: the platform said "too many" for real.
    for platform, n in facts.recent_throttled_publications(since=ctx.now - timedelta(hours=1)).items():
        found[platform] = Firing(
            key=f"platform:{platform}",
            value=n,
            message=f"{platform}: {n} publication(s) stopped by rate limits in the last hour",
            details={"throttled_publications": n},
        )
    for check in check_platforms():
        headroom = check.data.get("throttle_headroom")
        platform = check.name.split(":", 1)[1]
        if headroom is not None and headroom < limit and platform not in found:
            found[platform] = Firing(
                key=f"platform:{platform}",
                value=round(float(headroom), 3),
                threshold=limit,
                message=f"{platform}: {headroom:.0%} of the rate budget left (threshold {limit:.0%})",
            )
    return list(found.values())


def _token_expiring(ctx: Context) -> list[Firing]:
    days = ctx.settings.alert_token_expiry_days
    horizon = ctx.now + timedelta(days=days)
    out = []
    for account in facts.platform_accounts():
        expires = account.token_expires_at
        if expires is None or expires > horizon:
            continue
        left = (expires - ctx.now).total_seconds() / 86400
        expired = left <= 0
        out.append(
            Firing(
                key=f"account:{account.id}",
                value=round(left, 2),
                threshold=days,
                severity="critical" if expired else None,
                message=(
                    f"{account.platform} account {account.name!r}: token "
                    + ("has expired" if expired else f"expires in {left:.1f} days")
                    + f" ({expires:%Y-%m-%d %H:%M} UTC)"
                ),
                details={"platform": account.platform, "account_id": account.id, "expires_at": expires},
            )
        )
    return out


def _api_sunset(ctx: Context) -> list[Firing]:
    sunsets = parse_api_version_sunsets(ctx.settings.api_version_sunsets)
    days = ctx.settings.alert_api_sunset_days
    out: dict[str, Firing] = {}
    for account in facts.platform_accounts():
        version = account.api_version or facts.default_api_version(account.platform)
        sunset = sunsets.get((account.platform, version or ""))
        if sunset is None:
            continue
        left = (sunset - ctx.now.date()).days
        if left <= days:
            key = f"{account.platform}:{version}"
            out[key] = Firing(
                key=key,
                value=left,
                threshold=days,
                severity="critical" if left <= 0 else None,
                message=f"{account.platform} API {version} stops working on {sunset:%Y-%m-%d} ({left} days)",
                details={"platform": account.platform, "version": version, "sunset": sunset.isoformat()},
            )
    return list(out.values())


def _campaign_cpa(ctx: Context) -> list[Firing]:
    days = ctx.settings.alert_cpa_window_days
    out = []
    for row in facts.campaign_cpas(window_days=days, today=ctx.now.date()):
        # With no application yet, alert only once the spend alone exceeds the target CPA.
        if row.spend_pesos <= 0 or row.cpa <= row.target_cpa:
            continue
        out.append(
            Firing(
                key=f"campaign:{row.campaign_id}",
                value=round(row.cpa, 2),
                threshold=row.target_cpa,
                message=(
                    f"Campaign {row.name!r}: CPA {_pesos(row.cpa)} over {days} days, "
                    f"target {_pesos(row.target_cpa)} "
                    f"({row.applications} applications, {_pesos(row.spend_pesos)} spent)"
                ),
                details={
                    "campaign_id": row.campaign_id,
                    "spend_pesos": row.spend_pesos,
                    "applications": row.applications,
                    "window_days": days,
                },
            )
        )
    return out


def _pesos(amount: float) -> str:
    # Colombian style: $ 1.234.567
    return "$ " + f"{round(amount):,}".replace(",", ".")


def _drift(ctx: Context) -> list[Firing]:
    model = facts.model_facts()
    limit = ctx.settings.alert_drift_threshold
    if model.active_version is None or model.drift is None or model.drift <= limit:
        return []
    return [
        Firing(
            key=f"model:{model.active_version}",
            value=round(model.drift, 4),
            threshold=limit,
            message=f"Segmentation model v{model.active_version}: drift (PSI) {model.drift:.3f} > {limit:g}",
        )
    ]


CHECKS: dict[str, Callable[[Context], list[Firing]]] = {
    "high_error_rate": _error_rate,
    "high_latency": _latency,
    "queue_backlog": _queue_backlog,
    "no_worker_alive": _no_worker,
    "broker_unavailable": _broker,
    "db_connection_saturation": _db_connections,
    "database_cpu_high": _database_cpu,
    "disk_space_low": _disk_space,
    "platform_throttling": _platform_throttling,
    "token_expiring": _token_expiring,
    "api_version_sunset": _api_sunset,
    "campaign_cpa_above_target": _campaign_cpa,
    "segmentation_drift": _drift,
}


# ---- evaluation ------------------------------------------------------------------------------


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
    if notify:
        _notify_pending(result, ctx.settings)
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
            details={**_jsonable(firing.details), "summary": render(rule, ctx.settings)["summary"]},
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


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in details.items()}


# ---- notifications -----------------------------------------------------------------------------


def _notify_pending(result: EvaluationResult, settings: Settings) -> None:
    """Send what is due: newly opened alerts not yet notified, and resolutions not yet announced."""
    if not (settings.alert_webhook_url or settings.alert_email_to):
        return
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
    for alert, kind in [(a, "firing") for a in opened] + [(a, "resolved") for a in resolved]:
        attempts = int((alert.details or {}).get(f"{kind}_attempts", 0))
        if attempts >= MAX_NOTIFY_ATTEMPTS:
            continue
        ok = send_notification(alert, kind, settings)
        details = dict(alert.details or {})
        details[f"{kind}_attempts"] = attempts + 1
        if ok:
            result.notified += 1
            if kind == "firing":
                alert.notified_at = datetime.now(UTC)
                alert.notifications = (alert.notifications or 0) + 1
            else:
                details["resolve_notified"] = True
                alert.notifications = (alert.notifications or 0) + 1
        else:
            result.notify_failures += 1
        alert.details = details
        db.session.commit()


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
    """Notify by webhook and e-mail (those configured); True if every configured channel took it."""
    ok = True
    if settings.alert_webhook_url:
        ok &= _send_webhook(alert_payload(alert, kind, settings), settings.alert_webhook_url)
    if settings.alert_email_to:
        ok &= _send_email(alert, kind, settings)
    return ok


def _send_webhook(payload: dict[str, Any], url: str) -> bool:
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
    message = EmailMessage()
    state = "RESOLVED" if kind == "resolved" else alert.severity.upper()
    message["Subject"] = f"[AdFlux] {state}: {alert.rule} {alert.key}".strip()
    message["From"] = settings.alert_email_from or "adflux@localhost"
    message["To"] = ", ".join(recipients)
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
    message.set_content("\n".join(lines))
    try:
        with smtplib.SMTP(
            settings.smtp_host or "localhost", settings.smtp_port, timeout=SMTP_TIMEOUT
        ) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("alert e-mail via %s failed: %s", settings.smtp_host, type(exc).__name__)
        return False
    return True


# ---- reading history -----------------------------------------------------------------------------


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
        raise NotFound(f"Alert {alert_id} does not exist")
    return alert


def list_rules() -> list[dict[str, Any]]:
    """Every alert rule with this deployment's thresholds."""
    return rules_as_dicts(current_settings())
