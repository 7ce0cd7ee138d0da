"""The audit trail page: who changed what and when, with filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, render_template, request
from flask_babel import gettext as _

from adflux.services import audit as audit_service
from adflux.services import dashboard
from adflux.settings import current_settings
from adflux.web.auth import login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

# The audit filters and the longest value each takes (as the API's AuditEventListArgsSchema).
AUDIT_TEXT_FILTERS = {"entity_id": 64, "actor": 120, "action": 61}


@bp.get("/audit")
@login_required("admin")
def audit_trail() -> str:
    """Every recorded change, newest first: who, what, when, before and after; with filters."""
    entity_types = dashboard.audit_entity_types()
    filters, form = _audit_filters(entity_types)
    page = audit_service.list_events(page=page_number(), page_size=PAGE_SIZE, **filters)
    return render_template(
        "audit.html",
        page=page,
        form=form,
        query={name: value for name, value in form.items() if value},
        entity_types=entity_types,
        changes={event.id: dashboard.audit_changes(event) for event in page.items},
    )


def _audit_filters(entity_types: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The audit page's filters from the query string: (service arguments, form values).

    Days are the reader's (Bogotá) days: `since` from its first moment, `until` to its last.
    A filter that cannot be used is left out and said so in a message, never a failure.
    """
    args = request.args
    form = {
        name: args.get(name, "").strip() for name in ("entity_type", *AUDIT_TEXT_FILTERS, "since", "until")
    }
    filters: dict[str, Any] = {}
    if form["entity_type"]:
        if form["entity_type"] in entity_types:
            filters["entity_type"] = form["entity_type"]
        else:
            form["entity_type"] = ""
    for name, longest in AUDIT_TEXT_FILTERS.items():
        if len(form[name]) > longest:
            flash(_("That filter is too long (at most %(n)s characters).", n=longest), "error")
            form[name] = ""
        elif form[name]:
            filters[name] = form[name]
    zone = ZoneInfo(current_settings().timezone)
    for name, days_after in (("since", 0), ("until", 1)):
        if not form[name]:
            continue
        try:
            day = date.fromisoformat(form[name]) + timedelta(days=days_after)
            filters[name] = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        except (ValueError, OverflowError):  # not a date, or at the very end of the calendar
            flash(_("“%(value)s” is not a date (YYYY-MM-DD).", value=form[name][:40]), "error")
            form[name] = ""
    return filters, form
