"""The overview page: KPIs and daily trends across every campaign."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, render_template, request
from flask_babel import gettext as _

from adflux.constants import PLATFORM_LABELS
from adflux.services import dashboard, local_dates
from adflux.services import reports as reports_service
from adflux.services.autocommit_reads import reads_only
from adflux.services.errors import ValidationFailed
from adflux.web import charts
from adflux.web.auth import login_required
from adflux.web.views.blueprint import bp

DEFAULT_RANGE_DAYS = 30
RANGE_PRESETS = (7, 30, 90)


@bp.get("/")
@reads_only  # (above the sign-in check: the user's read needs no transaction either)
@login_required("viewer")
def index() -> str:
    """KPIs and daily trends across every campaign over a date range."""
    since, until = _date_range()
    report = reports_service.overview(since=since, until=until)
    top = reports_service.top_campaigns(since=since, until=until, limit=10)
    # The KPIs' change against the period of the same length just before (rollups: ~1 ms).
    length = until - since
    previous = reports_service.overview(
        since=since - length - timedelta(days=1), until=since - timedelta(days=1)
    )
    chart_specs = {
        "trend-spend": charts.daily_trend(report["trend"], report["since"], report["until"], "spend", "cop"),
        "trend-applications": charts.daily_trend(
            report["trend"], report["since"], report["until"], "applications", "number"
        ),
        "trend-ctr": charts.daily_trend(report["trend"], report["since"], report["until"], "ctr", "percent"),
        "trend-cpa": charts.daily_trend(report["trend"], report["since"], report["until"], "cpa", "cop"),
        "platform-spend": charts.by_platform(report["platforms"], "spend", "cop"),
        "platform-cpa": charts.by_platform(report["platforms"], "cpa", "cop"),
    }
    return render_template(
        "overview.html",
        report=report,
        previous=previous["totals"],
        top_campaigns=top,
        status_counts=dashboard.campaign_status_counts(),
        charts=chart_specs,
        presets=RANGE_PRESETS,
        platform_labels=PLATFORM_LABELS,
    )


def _date_range() -> tuple[date, date]:
    """since/until from the query string (ISO dates); a bad range falls back to the last 30 days.

    The range ends today, or on the newest synced day when that is later (the sandbox's simulated
    clock can run ahead of the real one, as after `adflux demo`).
    """
    until = last_day()
    since = until - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    try:
        if request.args.get("days"):
            days = int(request.args["days"])
            if not 1 <= days <= reports_service.MAX_RANGE_DAYS:
                raise ValueError(days)
            return until - timedelta(days=days - 1), until
        if request.args.get("until"):
            until = date.fromisoformat(request.args["until"])
        since = date.fromisoformat(request.args["since"]) if request.args.get("since") else since
        reports_service.DateRange.checked(since, until)
    except (ValueError, ValidationFailed):
        flash(_("That date range is not valid; showing the last 30 days."), "error")
        until = last_day()
        return until - timedelta(days=DEFAULT_RANGE_DAYS - 1), until
    return since, until


def last_day(campaign_id: int | None = None) -> date:
    today = local_dates.today()
    latest = dashboard.latest_metric_day(campaign_id=campaign_id)
    return max(today, latest) if latest else today
