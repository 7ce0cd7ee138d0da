"""The alert checks, one per rule: each reads the facts and says which keys fire now.

A check returns one `Firing` per key whose condition holds ("queue:sync", "campaign:12"), an
empty list when all is well, and raises `NotApplicable` when the rule means nothing in this
deployment (no broker, SQLite, ...). `CHECKS` maps each rule of `monitoring.alert_rules` to its
check; `alerting.evaluation` runs them and turns firings into Alert rows. The checks themselves
live in `operations_checks` (the service and its infrastructure) and `marketing_checks` (campaigns,
segments, syncs and feeds).
"""

from __future__ import annotations

from collections.abc import Callable

from adflux.services.alerting import marketing_checks as marketing
from adflux.services.alerting import operations_checks as operations
from adflux.services.alerting.check_types import Context, Firing, NotApplicable

__all__ = ["CHECKS", "Context", "Firing", "NotApplicable"]

CHECKS: dict[str, Callable[[Context], list[Firing]]] = {
    "high_error_rate": operations.error_rate,
    "high_latency": operations.latency,
    "queue_backlog": operations.queue_backlog,
    "no_worker_alive": operations.no_worker,
    "broker_unavailable": operations.broker,
    "service_down": operations.service_down,
    "instances_below_minimum": operations.instances_below_minimum,
    "database_down": operations.database_down,
    "db_connection_saturation": operations.db_connections,
    "database_cpu_high": operations.database_cpu,
    "disk_space_low": operations.disk_space,
    "platform_throttling": operations.platform_throttling,
    "token_expiring": operations.token_expiring,
    "api_version_sunset": operations.api_sunset,
    "campaign_cpa_above_target": marketing.campaign_cpa,
    "campaign_pacing_off": marketing.pacing_off,
    "segmentation_drift": marketing.drift,
    "metrics_sync_failing": marketing.sync_failing,
    "campaign_action_incomplete": marketing.action_incomplete,
    "job_feed_failing": marketing.feed_failing,
    "campaign_awaiting_approval": marketing.awaiting_approval,
}
