"""Alert rules as data: one list read by the evaluator, the API, the CLI and the Prometheus export.

Each rule names the setting that holds its threshold, so operators tune thresholds in the
environment (ADFLUX_ALERT_*) and the evaluator and the exported Prometheus rules agree. The
evaluator's check for each rule is registered in `adflux.services.alerting.checks` under the same name.

`export_prometheus_rules()` writes the same rules as a Prometheus alerting-rules file over the
metrics `/metrics` exports (plus `up` for the worker job and node_exporter's CPU for the database
host), for teams that route alerts with Alertmanager instead of (or beside) AdFlux's own
webhook and e-mail notifications.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adflux.constants import ALERT_SEVERITIES
from adflux.settings import Settings

SEVERITIES = ALERT_SEVERITIES


@dataclass(frozen=True)
class AlertRule:
    """One condition worth waking someone for."""

    name: str
    severity: str
    summary: str
    description: str
    # The Settings field with the threshold (None: the rule has no tunable threshold).
    threshold_setting: str | None
    # PromQL with {placeholders} filled from settings (see `_promql_values`).
    promql: str
    # How long the condition must hold in Prometheus before it fires.
    for_: str = "5m"
    # Who acts on it: "operator" (the service) or "marketing" (a campaign).
    audience: str = "operator"

    def threshold(self, settings: Settings) -> float | None:
        """This rule's threshold under `settings`."""
        if self.threshold_setting is None:
            return None
        return float(getattr(settings, self.threshold_setting))


RULES: tuple[AlertRule, ...] = (
    AlertRule(
        name="high_error_rate",
        severity="critical",
        summary="More than {alert_error_rate_pct} % of requests fail",
        description="Share of HTTP requests answered with a 5xx in the last {alert_window_minutes} minutes.",
        threshold_setting="alert_error_rate",
        promql=(
            "sum(rate(adflux_http_request_errors_total{{{real}}}[{window}])) "
            "/ sum(rate(adflux_http_requests_total{{{real}}}[{window}])) > {alert_error_rate} "
            "and sum(increase(adflux_http_requests_total{{{real}}}[{window}])) >= {alert_min_requests}"
        ),
    ),
    AlertRule(
        name="high_latency",
        severity="warning",
        summary="Average response time above {alert_latency_seconds} s",
        description="Mean HTTP request duration over the last {alert_window_minutes} minutes.",
        threshold_setting="alert_latency_seconds",
        promql=(
            "sum(rate(adflux_http_request_duration_seconds_sum{{{real}}}[{window}])) "
            "/ sum(rate(adflux_http_request_duration_seconds_count{{{real}}}[{window}])) "
            "> {alert_latency_seconds} "
            "and sum(increase(adflux_http_requests_total{{{real}}}[{window}])) >= {alert_min_requests}"
        ),
    ),
    AlertRule(
        name="queue_backlog",
        severity="warning",
        summary="More than {alert_queue_backlog} tasks waiting in a queue",
        description="Messages waiting in a Celery queue: workers are too few, stuck or down.",
        threshold_setting="alert_queue_backlog",
        promql="max by (queue) (adflux_celery_queue_length) > {alert_queue_backlog}",
        for_="10m",
    ),
    AlertRule(
        name="no_worker_alive",
        severity="critical",
        summary="No Celery worker is answering",
        description="A broker is set but no worker answered a ping: nothing is published, synced or trained.",
        threshold_setting=None,
        promql='(sum(up{{job="adflux-worker"}}) or vector(0)) == 0',
        for_="3m",
    ),
    AlertRule(
        name="service_down",
        severity="critical",
        summary="An AdFlux web process or worker is down",
        description=(
            "Prometheus cannot scrape a web or worker target (up == 0); built in, a worker that "
            "answered within the last day no longer answers. Restart it or remove it on purpose."
        ),
        threshold_setting=None,
        promql='up{{job=~"adflux-web|adflux-worker"}} == 0',
        for_="2m",
    ),
    AlertRule(
        name="instances_below_minimum",
        severity="critical",
        summary="Fewer AdFlux instances than the configured minimum",
        description=(
            "Live web processes below {alert_min_web_processes}, or workers consuming a queue "
            "below {alert_min_workers_per_queue}: capacity is gone before anything else fails."
        ),
        threshold_setting="alert_min_workers_per_queue",
        promql=(
            # Every web target reports the same counts: max keeps one series per kind and queue.
            'max by (kind, queue) (adflux_instances{{kind="web"}}) < {alert_min_web_processes} '
            'or max by (kind, queue) (adflux_instances{{kind="worker"}}) < {alert_min_workers_per_queue}'
        ),
        for_="3m",
    ),
    AlertRule(
        name="database_down",
        severity="critical",
        summary="PostgreSQL is not answering",
        description="postgres_exporter cannot reach the database (pg_up == 0); nothing can be read or saved.",
        threshold_setting=None,
        promql="pg_up == 0",
        for_="1m",
    ),
    AlertRule(
        name="broker_unavailable",
        severity="critical",
        summary="The Celery broker (Redis) is not answering",
        description="Tasks cannot be queued; the API answers 503 where work must be enqueued.",
        threshold_setting=None,
        promql="adflux_celery_broker_up == 0",
        for_="2m",
    ),
    AlertRule(
        name="db_connection_saturation",
        severity="warning",
        summary="PostgreSQL connections above {alert_db_connection_ratio_pct} % of max_connections",
        description="Client connections vs max_connections (pg_stat_activity); new ones will soon fail.",
        threshold_setting="alert_db_connection_ratio",
        promql="adflux_db_connections / adflux_db_max_connections > {alert_db_connection_ratio}",
    ),
    AlertRule(
        name="database_cpu_high",
        severity="warning",
        summary="Database host CPU above {alert_cpu_ratio_pct} %",
        description=(
            "PostgreSQL (and so postgres_exporter) does not report CPU: built in, on the same host "
            "AdFlux reads the load average; Prometheus reads node_exporter beside PostgreSQL in the "
            'deploy stack (job "postgres-node"). Managed databases expose CPU in their own monitoring.'
        ),
        threshold_setting="alert_cpu_ratio",
        promql=(
            '1 - avg(rate(node_cpu_seconds_total{{job="postgres-node",mode="idle"}}[{window}])) '
            "> {alert_cpu_ratio}"
        ),
        for_="10m",
    ),
    AlertRule(
        name="disk_space_low",
        severity="warning",
        summary="Less than {alert_disk_free_ratio_pct} % free where AdFlux keeps data",
        description="Free space on the disk holding the database file, the backups or the model store.",
        threshold_setting="alert_disk_free_ratio",
        promql="adflux_disk_free_bytes / adflux_disk_size_bytes < {alert_disk_free_ratio}",
        for_="15m",
    ),
    AlertRule(
        name="platform_throttling",
        severity="warning",
        summary="An ad platform is throttling AdFlux",
        description=(
            "The platform answered with rate-limit errors, or less than {alert_throttle_headroom_pct} % "
            "of its rate budget is left."
        ),
        threshold_setting="alert_throttle_headroom",
        promql="sum by (platform) (increase(adflux_platform_throttles_total[15m])) > 0",
        for_="0m",
    ),
    AlertRule(
        name="token_expiring",
        severity="warning",
        summary="A platform access token expires within {alert_token_expiry_days} days",
        description="Renew the token in the platform account before campaigns stop publishing and syncing.",
        threshold_setting="alert_token_expiry_days",
        promql="adflux_platform_token_expiry_timestamp_seconds - time() < {alert_token_expiry_days} * 86400",
        for_="0m",
    ),
    AlertRule(
        name="api_version_sunset",
        severity="warning",
        summary="A platform API version stops working within {alert_api_sunset_days} days",
        description="Upgrade the adapter or the account's api_version before the platform turns it off.",
        threshold_setting="alert_api_sunset_days",
        promql=(
            "adflux_platform_api_version_sunset_timestamp_seconds - time() < {alert_api_sunset_days} * 86400"
        ),
        for_="0m",
    ),
    AlertRule(
        name="campaign_cpa_above_target",
        severity="warning",
        summary="A campaign's cost per application is above its target",
        description="CPA over the last {alert_cpa_window_days} days vs the campaign's target CPA.",
        threshold_setting=None,
        promql="adflux_campaign_cpa_pesos > on (campaign_id) adflux_campaign_target_cpa_pesos",
        for_="1h",
        audience="marketing",
    ),
    AlertRule(
        name="campaign_pacing_off",
        severity="warning",
        summary="A campaign's spend is more than {alert_pacing_tolerance_pct} % off its plan",
        description=(
            "Spend so far against what an even (or the chosen) pacing plan meant to spend by now, for "
            "live campaigns with an end date or with pacing on; also when the audiences cannot absorb "
            "what is left. Resolves when the campaign is back on pace."
        ),
        threshold_setting="alert_pacing_tolerance",
        promql="abs(adflux_campaign_pacing_ratio - 1) > {alert_pacing_tolerance}",
        for_="1h",
        audience="marketing",
    ),
    AlertRule(
        name="segmentation_drift",
        severity="warning",
        summary="Candidates have drifted from the active segmentation model (PSI > {alert_drift_threshold})",
        description="Today's candidates differ from the training data; consider retraining the model.",
        threshold_setting="alert_drift_threshold",
        promql="max(adflux_model_drift) > {alert_drift_threshold}",
        for_="1h",
    ),
    AlertRule(
        name="metrics_sync_failing",
        severity="warning",
        summary="The last {alert_sync_failures} metrics syncs failed",
        description="Spend and applications stop updating; the sync's error names the platform and why.",
        threshold_setting="alert_sync_failures",
        promql="adflux_metrics_sync_consecutive_failures >= {alert_sync_failures}",
        for_="0m",
    ),
    AlertRule(
        name="campaign_action_incomplete",
        severity="warning",
        summary="A campaign action reached only some platforms",
        description="A pause, resume, complete or archive failed on some platforms; retry it.",
        threshold_setting=None,
        promql="adflux_campaigns_action_incomplete > 0",
        for_="0m",
        audience="marketing",
    ),
    AlertRule(
        name="job_feed_failing",
        severity="warning",
        summary="A job feed could not be read",
        description=(
            "The feed was unreachable, broken or suddenly much smaller: nothing was closed or "
            "created from it; its openings and campaigns stay as they were until it reads well."
        ),
        threshold_setting=None,
        promql="adflux_job_feeds_failing > 0",
        for_="0m",
    ),
    AlertRule(
        name="campaign_awaiting_approval",
        severity="info",
        summary="A campaign made by a playbook waits for approval",
        description="Approve or reject it (dashboard Automatización → Aprobaciones, or adflux approvals).",
        threshold_setting=None,
        promql="adflux_campaigns_awaiting_approval > 0",
        for_="0m",
        audience="marketing",
    ),
)

RULES_BY_NAME: dict[str, AlertRule] = {rule.name: rule for rule in RULES}


def _promql_values(settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(settings, name)
        for name in (
            "alert_error_rate",
            "alert_latency_seconds",
            "alert_queue_backlog",
            "alert_db_connection_ratio",
            "alert_cpu_ratio",
            "alert_disk_free_ratio",
            "alert_throttle_headroom",
            "alert_token_expiry_days",
            "alert_api_sunset_days",
            "alert_cpa_window_days",
            "alert_pacing_tolerance",
            "alert_drift_threshold",
            "alert_sync_failures",
            "alert_min_requests",
            "alert_min_web_processes",
            "alert_min_workers_per_queue",
            "alert_window_minutes",
        )
    }
    # Floats as people write them: 2 not 2.0, 0.05 not 5e-02.
    values = {k: _number(v) if isinstance(v, float) else v for k, v in values.items()}
    for name in (
        "alert_error_rate",
        "alert_db_connection_ratio",
        "alert_cpu_ratio",
        "alert_disk_free_ratio",
        "alert_pacing_tolerance",
    ):
        values[f"{name}_pct"] = _number(getattr(settings, name) * 100)
    values["alert_throttle_headroom_pct"] = _number(settings.alert_throttle_headroom * 100)
    values["window"] = f"{settings.alert_window_minutes}m"
    # Real traffic only: probes and scrapes are frequent, fast and always 200.
    values["real"] = 'route!~"/healthz|/readyz|/metrics"'

    return values


def _number(value: float) -> str:
    return f"{value:g}"


def render(rule: AlertRule, settings: Settings) -> dict[str, str]:
    """The rule's summary, description and PromQL with this deployment's thresholds."""
    values = _promql_values(settings)
    return {
        "summary": rule.summary.format(**values),
        "description": rule.description.format(**values),
        "expr": rule.promql.format(**values),
    }


def rules_as_dicts(settings: Settings) -> list[dict[str, Any]]:
    """Every rule with its threshold under `settings` (for the API and CLI)."""
    out = []
    for rule in RULES:
        text = render(rule, settings)
        out.append(
            {
                "name": rule.name,
                "severity": rule.severity,
                "audience": rule.audience,
                "summary": text["summary"],
                "description": text["description"],
                "threshold": rule.threshold(settings),
                "threshold_setting": rule.threshold_setting,
                "for_": rule.for_,
                "expr": text["expr"],
            }
        )
    return out


def export_prometheus_rules(settings: Settings) -> str:
    """The rules as a Prometheus alerting-rules YAML document (valid for `promtool check rules`)."""
    lines = [
        "# AdFlux alerting rules for Prometheus, generated by `adflux alerts export-rules`.",
        "# Thresholds come from the ADFLUX_ALERT_* settings; regenerate after changing them.",
        "groups:",
        "  - name: adflux",
        "    rules:",
    ]
    for rule in RULES:
        text = render(rule, settings)
        # JSON strings are valid YAML flow scalars, so quoting needs no YAML library.
        lines += [
            f"      - alert: {_camel(rule.name)}",
            f"        expr: {json.dumps(text['expr'])}",
            f"        for: {rule.for_}",
            "        labels:",
            f"          severity: {rule.severity}",
            f"          rule: {rule.name}",
            f"          audience: {rule.audience}",
            "          service: adflux",
            "        annotations:",
            f"          summary: {json.dumps(text['summary'], ensure_ascii=False)}",
            f"          description: {json.dumps(text['description'], ensure_ascii=False)}",
        ]
    return "\n".join(lines) + "\n"


def _camel(name: str) -> str:
    return "AdFlux" + "".join(part.capitalize() for part in name.split("_"))
