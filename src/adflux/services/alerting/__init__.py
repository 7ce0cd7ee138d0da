"""Alerting: the checks behind each alert rule, the evaluator that opens and resolves alerts, their
notifications (e-mail, webhook) and their history. The rules themselves, as data, are
`adflux.monitoring.alert_rules`.
"""

from adflux.services.alerting.evaluation import EvaluationResult, evaluate
from adflux.services.alerting.history import get_alert, list_alerts, list_rules

__all__ = [
    "EvaluationResult",
    "evaluate",
    "get_alert",
    "list_alerts",
    "list_rules",
]
