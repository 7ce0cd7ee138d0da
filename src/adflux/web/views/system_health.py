"""The system-health page: the daily checklist at a glance, for admins; it refreshes itself."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
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
        check_detail=check_detail,
    )


# What the health checks say (services/health.py writes them in English for /readyz and the CLI),
# as the page's reader reads it. Anything else (a platform's or a driver's own words) is shown as is.
_DETAILS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^no broker: tasks run inline \(embedded mode\)$"),
     lambda m: _("no broker: tasks run inline (embedded mode)")),
    (re.compile(r"^no active model yet$"), lambda m: _("no active model yet")),
    (re.compile(r"^active model v(\d+)$"), lambda m: _("active model v%(version)s", version=m[1])),
    (re.compile(r"^active model v(\d+) in remote storage$"),
     lambda m: _("active model v%(version)s in remote storage", version=m[1])),
    (re.compile(r"^active model v(\d+) artifact is missing$"),
     lambda m: _("the file of active model v%(version)s is missing", version=m[1])),
    (re.compile(r"^(.+) is not writable$"), lambda m: _("%(path)s cannot be written", path=m[1])),
    (re.compile(r"^no metrics sync yet$"), lambda m: _("no metrics sync yet")),
    (re.compile(r"^last sync succeeded$"), lambda m: _("the last sync succeeded")),
    (re.compile(r"^last sync failed(.*?): (.*)$", re.S),
     lambda m: _("the last sync failed%(times)s: %(reason)s", times=m[1], reason=m[2])),
    (re.compile(r"^no adapter$"), lambda m: _("no adapter for this platform")),
]  # fmt: skip


def check_detail(detail: str | None) -> str:
    """A health check's detail in the reader's language (known phrasings; others as they are)."""
    if not detail:
        return ""
    for pattern, words in _DETAILS:
        if match := pattern.match(detail):
            return str(words(match))
    return detail
