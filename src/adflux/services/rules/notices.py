"""A rule's ``notify`` action: a notice in Spanish through the alerting channels (webhook, e-mail, SMS).

The notice names the rule, the campaign, where it fired (platform and ad group) and the numbers
behind the decision, in whole pesos. It goes to the channels configured for alerts of severity
``warning`` (``ADFLUX_ALERT_WEBHOOK_URL``, ``ADFLUX_ALERT_EMAIL_TO``/``_SEVERITIES``,
``ADFLUX_ALERT_SMS_TO``/``_SEVERITIES``); the webhook body has Alertmanager's shape, like every
alert's, with ``alertname`` ``rule_notify``. The decision log says whether each channel took it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from adflux.constants import PLATFORM_LABELS, RULE_METRIC_LABELS
from adflux.extensions import db
from adflux.models import AdGroup, Campaign, PlatformCampaign
from adflux.services.alerting.notifications import channels_for, send_email, send_webhook
from adflux.services.alerting.sms import send_text
from adflux.services.rules.actuators import Outcome
from adflux.settings import Settings, current_settings

SEVERITY = "warning"
PESOS = {"spend", "cpa", "cpa_low", "cpa_high", "cpc"}
SHARES = {"ctr", "pacing"}
LABELS = {
    **RULE_METRIC_LABELS,
    "cpa_low": "CPA (mínimo probable)",
    "cpa_high": "CPA (máximo probable)",
    "applications_expected": "Postulaciones esperadas con las tardías",
}


def pesos(amount: float) -> str:
    """Whole pesos as Colombia writes them: $ 1.234.567."""
    return "$ " + f"{round(amount):,}".replace(",", ".")


def _figure(name: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "sin dato"
    if name in PESOS:
        return pesos(value)
    if name in SHARES:
        return f"{value * 100:.1f} %".replace(".", ",")
    if name == "days_left":
        return str(round(value))
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".").removesuffix(",0")


def where(campaign: Campaign, ad_group_id: int | None, platform_campaign_id: int | None) -> str:
    """Where the rule fired, as people say it: "Meta · grupo «Jóvenes»", "TikTok", "toda la campaña"."""
    group = db.session.get(AdGroup, ad_group_id) if ad_group_id is not None else None
    pc = db.session.get(PlatformCampaign, platform_campaign_id) if platform_campaign_id is not None else None
    if pc is None:
        return "toda la campaña"
    platform = PLATFORM_LABELS.get(pc.platform, pc.platform)
    return f"{platform} · grupo «{group.name}»" if group is not None else f"{platform} (toda la plataforma)"


def notice_lines(
    rule_name: str, campaign: Campaign, place: str, evidence: dict[str, Any], window: int
) -> list[str]:
    """The notice's text: what fired where, then one line per number behind it."""
    lines = [
        f"La regla «{rule_name}» se cumplió en la campaña «{campaign.name}» (n.º {campaign.id}): {place}.",
        "",
        f"Números de los últimos {window} días:",
    ]
    lines += [f"  {LABELS.get(name, name)}: {_figure(name, value)}" for name, value in evidence.items()]
    if campaign.target_cpa:
        lines.append(f"  CPA objetivo: {pesos(campaign.target_cpa)}")
    lines += ["", f"Registro de decisiones en el panel: /rules/decisions?campaign_id={campaign.id}"]
    return lines


def send_notice(
    *,
    rule_name: str,
    campaign: Campaign,
    ad_group_id: int | None,
    platform_campaign_id: int | None,
    evidence: dict[str, Any],
    window: int,
    settings: Settings | None = None,
) -> Outcome:
    """Send the notice on every channel configured for warnings; the outcome for the decision log."""
    settings = settings or current_settings()
    channels = channels_for(SEVERITY, settings)
    if not channels:
        return Outcome("recorded", "no alert channel is configured (webhook, e-mail or SMS)")
    place = where(campaign, ad_group_id, platform_campaign_id)
    lines = notice_lines(rule_name, campaign, place, evidence, window)
    subject = f"[AdFlux] Regla «{rule_name}»: {campaign.name}"
    failed = []
    if "webhook" in channels:
        payload = _payload(rule_name, campaign, place, lines, evidence)
        if not send_webhook(payload, settings.alert_webhook_url or ""):
            failed.append("webhook")
    if "email" in channels:
        recipients = [a.strip() for a in settings.alert_email_to.split(",") if a.strip()]
        if not send_email(subject, "\n".join(lines), recipients, settings):
            failed.append("e-mail")
    if "sms" in channels and not send_text(f"AdFlux: {lines[0]}", settings):
        failed.append("SMS")
    if failed:
        return Outcome("failed", f"not sent by {', '.join(failed)} (of {', '.join(channels)})")
    return Outcome("applied", f"sent by {', '.join(channels)}")


def _payload(
    rule_name: str, campaign: Campaign, place: str, lines: list[str], evidence: dict[str, Any]
) -> dict[str, Any]:
    """Alertmanager's webhook shape (version 4), as every AdFlux alert is sent."""
    labels = {
        "alertname": "rule_notify",
        "severity": SEVERITY,
        "key": f"campaign:{campaign.id}",
        "service": "adflux",
        "rule": rule_name,
    }
    annotations = {"summary": lines[0], "description": "\n".join(lines), "message": lines[0], "where": place}
    item = {
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": datetime.now(UTC).isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"adflux-rule-{rule_name}-{campaign.id}",
        "evidence": {
            k: (v if isinstance(v, int | float) and math.isfinite(v) else None) for k, v in evidence.items()
        },
    }
    return {
        "version": "4",
        "receiver": "adflux",
        "status": "firing",
        "groupKey": f"adflux:rule_notify:campaign:{campaign.id}",
        "groupLabels": {"alertname": "rule_notify"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "alerts": [item],
    }
