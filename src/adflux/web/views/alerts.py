"""The alerts page: what the monitoring rules raised, newest first."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from adflux.monitoring import alert_names
from adflux.services import alerting, dashboard
from adflux.web.auth import login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number


@bp.get("/alerts")
@login_required("viewer")
def alerts() -> str:
    """Alerts raised by the monitoring rules, newest first."""
    status = request.args.get("status") or None
    if status not in (None, "open", "resolved"):
        abort(404)
    page = alerting.list_alerts(status=status, page=page_number(), page_size=PAGE_SIZE)
    return render_template(
        "alerts.html", page=page, status=status, counts=dashboard.alert_counts(), describe=_described
    )


def _described(alert: Any) -> dict[str, str]:
    return alert_names.described(
        rule=alert.rule, key=alert.key, severity=alert.severity, message=alert.message, details=alert.details
    )
