"""Telling a campaign's owner when it needs them: publish failed, paused by a rule, budget spent,
job closed.

A sweep (beat, every minute) reads the events from the audit trail and the spend totals, keeps one
`OwnerNotification` per event (unique by event, so nothing is told twice, even by two sweeps at
once) and sends the pending ones by e-mail to the owner and to the Slack incoming webhook, in the
configured language (Spanish by default). A send that fails is retried on the next sweep.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from adflux.catalogue import gettext as _
from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.models import AuditEvent, Campaign, CampaignMetricDaily, OwnerNotification, User
from adflux.services.alerting.mailer import can_send_mail, send_mail
from adflux.services.alerting.slack import post_to_slack, slack_message
from adflux.services.campaigns.owners import owner_id_of
from adflux.services.creatives import format_cop
from adflux.settings import Settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Audit events older than this are not looked at again (they were seen by earlier sweeps).
LOOKBACK = timedelta(days=2)
KINDS = ("publish_failed", "paused_by_rule", "budget_spent", "job_closed")
SPENDING_STATUSES = ("active", "partially_active")


class Sweep(NamedTuple):
    """What one sweep found and sent."""

    found: int
    sent: int
    failed: int

    def as_dict(self) -> dict[str, int]:
        return self._asdict()


def notify_owners(settings: Settings) -> Sweep:
    """Record the new events worth an owner's attention, then send what is pending."""
    found = _record(_audit_events() + _spent_budgets())
    sent, failed = _send_pending(settings)
    return Sweep(found, sent, failed)


def _audit_events() -> list[tuple[str, str, int, dict[str, Any]]]:
    """(event key, kind, campaign id, details) for the audit events that matter to an owner."""
    since = datetime.now(UTC) - LOOKBACK
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.at >= since, AuditEvent.entity_type == "campaign")
        .where(
            AuditEvent.action.in_(
                ("campaign.status", "rules.pause", "automation.paused", "automation.archived")
            )
        )
        .order_by(AuditEvent.id)
    ).all()
    events = []
    for row in rows:
        after = row.after or {}
        kind = _kind(row.action, after)
        if kind and row.entity_id and row.entity_id.isdigit():
            events.append((f"audit:{row.id}", kind, int(row.entity_id), _details(row.action, after)))
    return events


def _kind(action: str, after: dict[str, Any]) -> str | None:
    if action == "campaign.status" and after.get("status") in ("failed", "partially_active"):
        return "publish_failed"
    if action == "rules.pause" and after.get("status") == "applied":
        return "paused_by_rule"
    if action in ("automation.paused", "automation.archived"):
        return "job_closed"
    return None


def _details(action: str, after: dict[str, Any]) -> dict[str, Any]:
    keep = ("status", "rule", "reason")
    details = {k: after[k] for k in keep if after.get(k) is not None}
    if action == "automation.archived":
        details["archived"] = True
    return details


def _spent_budgets() -> list[tuple[str, str, int, dict[str, Any]]]:
    """Campaigns still spending whose spend reached their total budget (told once per campaign)."""
    spent = func.coalesce(func.sum(CampaignMetricDaily.spend_micros), 0)
    rows = db.session.execute(
        select(Campaign.id, Campaign.budget_total, spent)
        .join(CampaignMetricDaily, CampaignMetricDaily.campaign_id == Campaign.id)
        .where(Campaign.status.in_(SPENDING_STATUSES))
        .group_by(Campaign.id, Campaign.budget_total)
    ).all()
    return [
        (
            f"budget_spent:{cid}",
            "budget_spent",
            cid,
            {"spent": round(int(micros) / 1_000_000), "budget": budget},
        )
        for cid, budget, micros in rows
        if budget and int(micros) / 1_000_000 >= budget
    ]


def _record(events: list[tuple[str, str, int, dict[str, Any]]]) -> int:
    if not events:
        return 0
    known = set(
        db.session.scalars(
            select(OwnerNotification.event_key).where(OwnerNotification.event_key.in_([e[0] for e in events]))
        )
    )
    found = 0
    for key, kind, campaign_id, details in events:
        campaign = db.session.get(Campaign, campaign_id)
        if key in known or campaign is None:
            continue
        db.session.add(
            OwnerNotification(
                event_key=key,
                kind=kind,
                campaign_id=campaign_id,
                owner_id=owner_id_of(campaign),
                details=details,
            )
        )
        try:
            db.session.commit()
            found += 1
        except IntegrityError:  # another sweep recorded it first
            db.session.rollback()
    return found


def _send_pending(settings: Settings) -> tuple[int, int]:
    pending = db.session.scalars(
        select(OwnerNotification).where(OwnerNotification.status == "pending").order_by(OwnerNotification.id)
    ).all()
    sent = failed = 0
    for note in pending:
        owner = db.session.get(User, note.owner_id) if note.owner_id else None
        channels = _channels(owner, settings)
        if not channels:
            note.status = "skipped"
            db.session.commit()
            continue
        campaign = db.session.get(Campaign, note.campaign_id)
        if campaign is None:
            continue
        title, lines = describe(note, campaign, owner, locale=settings.default_locale)
        ok = True
        if "email" in channels and owner is not None:
            ok &= send_mail(_email(title, lines, owner), settings)
        if "slack" in channels:
            ok &= post_to_slack(settings.slack_webhook_url or "", slack_message(title=title, lines=lines))
        note.attempts += 1
        note.channels = channels
        if ok:
            note.status, note.sent_at = "sent", datetime.now(UTC)
            sent += 1
        else:
            failed += 1
            if note.attempts >= MAX_ATTEMPTS:
                note.status = "failed"
        db.session.commit()
    return sent, failed


def _channels(owner: User | None, settings: Settings) -> list[str]:
    channels = []
    if owner is not None and owner.active and can_send_mail(settings):
        channels.append("email")
    if settings.slack_webhook_url:
        channels.append("slack")
    return channels


def _email(title: str, lines: list[str], owner: User) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[AdFlux] {title}"
    message["To"] = owner.email
    message.set_content("\n".join(lines) + "\n")
    return message


def describe(
    note: OwnerNotification, campaign: Campaign, owner: User | None, *, locale: str
) -> tuple[str, list[str]]:
    """The title and lines telling the owner what happened, in `locale`."""
    details = note.details or {}
    name = campaign.name
    if note.kind == "publish_failed":
        title = _("Publishing failed: %(name)s", locale=locale, name=name)
        failures = [
            f"{PLATFORM_LABELS.get(pc.platform, pc.platform)}: {pc.last_error or '—'}"
            for pc in campaign.platform_campaigns
            if pc.status == "failed"
        ]
        lines = [_("The campaign could not be published on every platform.", locale=locale), *failures]
    elif note.kind == "paused_by_rule":
        title = _("Paused by a rule: %(name)s", locale=locale, name=name)
        lines = [_("The rule “%(rule)s” paused the campaign.", locale=locale, rule=details.get("rule", "—"))]
    elif note.kind == "budget_spent":
        title = _("Budget spent: %(name)s", locale=locale, name=name)
        spent, budget = format_cop(int(details.get("spent", 0))), format_cop(int(details.get("budget", 0)))
        lines = [
            _("It has spent %(spent)s of its %(budget)s budget.", locale=locale, spent=spent, budget=budget)
        ]
    else:
        title = _("Job closed: %(name)s", locale=locale, name=name)
        done = _("archived", locale=locale) if details.get("archived") else _("paused", locale=locale)
        lines = [_("The job opening closed; the campaign was %(done)s.", locale=locale, done=done)]
        if details.get("reason"):
            lines.append(str(details["reason"]))
    if owner is not None:
        lines.append(_("Owner: %(email)s", locale=locale, email=owner.email))
    lines.append(_("Campaign %(id)s · adflux campaign show %(id)s", locale=locale, id=campaign.id))
    return title, lines
