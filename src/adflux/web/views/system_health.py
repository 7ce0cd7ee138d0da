"""The system-health page: the daily checklist at a glance, for admins; it refreshes itself."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from adflux.services.system_health import system_health
from adflux.web.auth import login_required
from adflux.web.views.blueprint import bp

REFRESH_SECONDS = 30

CHECK_LABELS = {
    "database": _l("Database"),
    "broker": _l("Broker (Redis)"),
    "model_store": _l("Model store"),
    "metrics_sync": _l("Metrics sync"),
}
QUEUE_LABELS = {
    "default": _l("General"),
    "publishing": _l("Publishing"),
    "sync": _l("Metrics sync"),
    "training": _l("Model training"),
    "maintenance": _l("Maintenance"),
    "automation": _l("Automation"),
}


@bp.get("/system-health")
@login_required("admin")
def system_health_page() -> str:
    """Database, broker, workers per queue, queues, beat, platforms, backup, model and open alerts."""
    snapshot = system_health(fresh=request.args.get("fresh") == "1")
    return render_template(
        "system_health.html",
        health=snapshot,
        refresh_seconds=REFRESH_SECONDS,
        check_labels=CHECK_LABELS,
        queue_labels=QUEUE_LABELS,
    )
