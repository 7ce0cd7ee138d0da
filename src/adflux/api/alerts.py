"""/api/v1/alerts: alert history, the rules, and an evaluation on demand."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.monitoring import alert_names
from adflux.schemas.alerts import (
    AlertListArgsSchema,
    AlertPageSchema,
    AlertRuleSchema,
    AlertSchema,
    EvaluationSchema,
)
from adflux.schemas.common import ApiErrorSchema
from adflux.services import alerting

URL_PREFIX = "/alerts"
blp = Blueprint("alerts", __name__, description="Operational and campaign alerts")


@blp.route("")
class AlertList(MethodView):
    @requires("viewer")
    @blp.arguments(AlertListArgsSchema(), location="query")
    @blp.response(200, AlertPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List alerts, newest first (filters: status, rule, severity, key, since, until)."""
        page = alerting.list_alerts(**args).as_dict()
        return {**page, "items": [_with_words(alert) for alert in page["items"]]}


@blp.route("/<int:alert_id>")
class AlertDetail(MethodView):
    @requires("viewer")
    @blp.response(200, AlertSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, alert_id: int) -> Any:
        """Get one alert with its details and notification record."""
        return _with_words(alerting.get_alert(alert_id=alert_id))


@blp.route("/rules")
class AlertRules(MethodView):
    @requires("viewer")
    @blp.response(200, AlertRuleSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """The alert rules with this deployment's thresholds and their PromQL form."""
        return alerting.list_rules()


@blp.route("/evaluate")
class AlertEvaluate(MethodView):
    @requires("admin")
    @blp.response(200, EvaluationSchema)
    def post(self) -> dict[str, Any]:
        """Evaluate every rule now (the scheduler does this every minute) and notify what is new."""
        return alerting.evaluate().as_dict()


def _with_words(alert: Any) -> dict[str, Any]:
    """The alert's fields, with its title, what it is about and its message in the reader's language."""
    fields = {name: getattr(alert, name) for name in AlertSchema().fields if hasattr(alert, name)}
    words = alert_names.described(
        rule=alert.rule, key=alert.key, severity=alert.severity, message=alert.message, details=alert.details
    )
    return {**fields, **words}
