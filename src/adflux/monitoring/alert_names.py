"""Alerts as people read them: each rule's title, what an alert is about, and its message in the
reader's language (Spanish by default), whatever language it was evaluated in.

An alert is evaluated once, by a worker, and read later by people of either language. Its message
is kept as text (`Alert.message`: the notifications' language at evaluation time) and, for checks
that say it through `catalogue.message`, as msgid and values in `details[MESSAGE_KEY]`, which
`alert_message` says again in the language of whoever reads it.
"""

from __future__ import annotations

from typing import Any

from adflux.catalogue import N_, restore
from adflux.catalogue import gettext as _
from adflux.constants import PLATFORM_LABELS

MESSAGE_KEY = "said"

RULE_TITLES = {
    "high_error_rate": N_("High error rate"),
    "high_latency": N_("Slow responses"),
    "queue_backlog": N_("Queue backlog"),
    "no_worker_alive": N_("No background worker"),
    "service_down": N_("Service down"),
    "instances_below_minimum": N_("Too few instances"),
    "database_down": N_("Database down"),
    "broker_unavailable": N_("Broker unavailable"),
    "db_connection_saturation": N_("Database connections nearly used up"),
    "database_cpu_high": N_("Database CPU high"),
    "disk_space_low": N_("Disk space low"),
    "platform_throttling": N_("Platform throttling"),
    "token_expiring": N_("Platform token expiring"),
    "api_version_sunset": N_("Platform API version ending"),
    "campaign_cpa_above_target": N_("CPA above target"),
    "campaign_pacing_off": N_("Spend off pace"),
    "segmentation_drift": N_("Segments drifting"),
    "metrics_sync_failing": N_("Metrics sync failing"),
    "campaign_action_incomplete": N_("Campaign change incomplete"),
    "job_feed_failing": N_("Job feed failing"),
    "campaign_awaiting_approval": N_("Campaign awaiting approval"),
}
SEVERITY_NAMES = {"info": N_("informational"), "warning": N_("warning"), "critical": N_("critical")}
# "campaign:12" → "Campaign 12": each kind of key and how its id reads.
KEY_KINDS = {
    "campaign": N_("Campaign %(id)s"),
    "account": N_("Platform account %(id)s"),
    "feed": N_("Job feed %(id)s"),
    "model": N_("Segmentation model v%(id)s"),
    "queue": N_("Queue %(id)s"),
    "volume": N_("Volume %(id)s"),
    "worker": N_("Worker %(id)s"),
}
WHOLE_KEYS = {"": N_("The whole service"), "metrics_sync": N_("Metrics sync")}


def rule_title(rule: str) -> str:
    """The rule's title in the reader's language ("high_error_rate" → "Tasa de errores alta")."""
    title = RULE_TITLES.get(rule)
    return _(title) if title else rule


def severity_name(severity: str) -> str:
    name = SEVERITY_NAMES.get(severity)
    return _(name) if name else severity


def key_label(key: str) -> str:
    """What the alert is about, as people say it ("platform:meta" → "Meta", "" → the whole service)."""
    if key in WHOLE_KEYS:
        return _(WHOLE_KEYS[key])
    kind, _sep, ident = key.partition(":")
    if kind == "platform":
        return PLATFORM_LABELS.get(ident, ident)
    if kind in KEY_KINDS and ident:
        return _(KEY_KINDS[kind], id=ident)
    return key


def alert_message(message: str, details: dict[str, Any] | None) -> str:
    """The alert's message in the reader's language when it was kept saying-again-able, else as stored."""
    return restore((details or {}).get(MESSAGE_KEY), message)


def described(
    *, rule: str, key: str, severity: str, message: str, details: dict[str, Any] | None
) -> dict[str, str]:
    """The words a person reads about one alert, in their language."""
    return {
        "title": rule_title(rule),
        "about": key_label(key),
        "severity_label": severity_name(severity),
        "message": alert_message(message, details),
    }
