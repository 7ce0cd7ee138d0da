"""Campaign pages: the list, one campaign's results and platforms, and its actions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import CAMPAIGN_STATUSES, PLATFORM_LABELS
from adflux.services import campaign_weeks, dashboard, local_dates
from adflux.services import campaigns as campaigns_service
from adflux.services import reports as reports_service
from adflux.services.autocommit_reads import reads_only
from adflux.services.campaigns.spend_control import campaign_pacing
from adflux.services.errors import DomainError, InvalidTransition, NotFound, ServiceUnavailable
from adflux.web import charts
from adflux.web.auth import current_session_user, login_required
from adflux.web.compliance_text import compliance_summary
from adflux.web.formatting import shown_status, status_label
from adflux.web.views.allocation import campaign_moves, move_text
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

logger = logging.getLogger(__name__)

# A campaign page charts this many days back from its last day, a point a day (longer: by week).
CAMPAIGN_CHART_DAYS = 90
# Each action, and whether it starts background work (publishing) or acts at once.
ACTIONS: dict[str, tuple[Callable[..., Any], bool]] = {
    "publish": (campaigns_service.publish_campaign, True),
    "pause": (campaigns_service.pause_campaign, False),
    "resume": (campaigns_service.resume_campaign, False),
    "retry_failed": (campaigns_service.retry_failed, True),
    "retry_action": (campaigns_service.retry_action, False),
    "complete": (campaigns_service.complete_campaign, False),
    "archive": (campaigns_service.archive_campaign, False),
}
SORT_LABELS = {
    "newest": _l("Newest"),
    "name": _l("Name"),
    "start_date": _l("Start date"),
    "budget": _l("Budget"),
    "spend": _l("Spend"),
    "applications": _l("Applications"),
    "cpa": _l("CPA"),
    "status": _l("Status"),
}


@bp.get("/campaigns")
@reads_only  # (above the sign-in check: the user's read needs no transaction either)
@login_required("viewer")
def campaign_list() -> str:
    """Campaigns with spend, applications and CPA: by status, searched by words, sorted."""
    status = request.args.get("status") or None
    if status not in (None, *CAMPAIGN_STATUSES):
        abort(404)
    q = (request.args.get("q") or "").strip()[:120]
    sort = request.args.get("sort") or "newest"
    if sort not in SORT_LABELS:
        sort = "newest"
    descending = request.args.get("dir", "desc") != "asc"
    page = campaigns_service.list_campaigns(
        status=status, q=q or None, sort=sort, descending=descending, page=page_number(), page_size=PAGE_SIZE
    )
    principal = current_session_user()
    return render_template(
        "campaigns/list.html",
        page=page,
        status=status,
        q=q,
        sort=sort,
        direction="desc" if descending else "asc",
        sort_labels=SORT_LABELS,
        can_create=principal is not None and principal.has_role("manager"),
        status_counts=dashboard.campaign_status_counts(),
        platform_labels=PLATFORM_LABELS,
    )


@bp.get("/campaigns/<int:campaign_id>")
@reads_only  # (above the sign-in check: the user's read needs no transaction either)
@login_required("viewer")
def campaign_detail(campaign_id: int) -> str:
    """One campaign: results per platform over time, platforms, creatives, compliance, actions.

    The charts show the latest CAMPAIGN_CHART_DAYS days a point a day; `?period=all` shows the
    campaign's whole life a point a week (summed by the database), with its totals over it.
    """
    reads = campaigns_service.campaign_page_reads(campaign_id=campaign_id)  # (two round trips)
    campaign, latest = reads.campaign, reads.last_metric_day  # (pacing needs the day too)
    preview = campaigns_service.preview_of(campaign)
    last = max(local_dates.today(), latest) if latest else local_dates.today()
    until = min(campaign.end_date or last, last)
    recent = max(campaign.start_date, until - timedelta(days=CAMPAIGN_CHART_DAYS - 1))
    weekly = request.args.get("period") == "all" and campaign.start_date < recent
    # (a report covers at most MAX_RANGE_DAYS: a longer life shows its latest two years by week)
    since = (
        max(campaign.start_date, until - timedelta(days=reports_service.MAX_RANGE_DAYS)) if weekly else recent
    )
    comparison = None
    chart_specs: dict[str, Any] = {}
    if since <= until:
        comparison, chart_specs = _results(campaign_id, since, until, weekly)
    principal = current_session_user()
    can_act = principal is not None and principal.has_role("manager")
    moves, move_labels = campaign_moves(campaign) if reads.has_allocation_log else ([], {})
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        allocation_moves=moves,
        allocation_labels=move_labels,
        allocation_on=reads.allocation_on,
        move_text=move_text,
        pacing=campaign_pacing(campaign, last_metric_day=latest),
        can_act=can_act,
        can_edit=can_act,
        preview={p["platform"]: p for p in preview["platforms"]},
        compliance={p["platform"]: compliance_summary(p["ad_groups"]) for p in preview["platforms"]},
        comparison=comparison,
        charts=chart_specs,
        since=since,
        until=until,
        weekly=weekly,
        longer=campaign.start_date < recent,
        chart_days=CAMPAIGN_CHART_DAYS,
        actions=dashboard.available_actions(campaign) if can_act else [],
        task=reads.task,
        platform_ids={pc.id: _platform_ids(pc) for pc in campaign.platform_campaigns},
        platform_labels=PLATFORM_LABELS,
    )


def _results(
    campaign_id: int, since: date, until: date, weekly: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The platforms side by side over the range, and the page's four charts: a point a day (both
    from one read of the campaign's days), or (`weekly`) a point a week (summed by the database)."""
    metrics = (("spend", "cop"), ("clicks", "number"), ("applications", "number"), ("ctr", "percent"))
    if weekly:
        comparison = reports_service.platform_comparison(campaign_id=campaign_id, since=since, until=until)
        weeks = campaign_weeks.campaign_weeks(campaign_id=campaign_id, since=since, until=until)
        mondays = campaign_weeks.weeks_between(since, until)
        if not weeks:
            return comparison, {}
        return comparison, {
            f"campaign-{m}": charts.platform_weekly_series(weeks, mondays, m, f) for m, f in metrics
        }
    timeseries = reports_service.campaign_timeseries(campaign_id=campaign_id, since=since, until=until)
    comparison, series = reports_service.comparison_of(timeseries), timeseries["series"]
    if not series:
        return comparison, {}
    return comparison, {
        f"campaign-{m}": charts.platform_series(series, since, until, m, f) for m, f in metrics
    }


def _flash_publishing(campaign_id: int) -> None:
    """Say truthfully where publishing is: still running, or already done (the eager path)."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    if campaign.status == "publishing":
        flash(_("Publishing started; progress is shown below."), "success")
        return
    shown = shown_status(campaign)
    category = "error" if shown in ("failed", "partially_active") else "success"
    flash(_("Publishing finished: the campaign is %(status)s.", status=status_label(shown)), category)


def _platform_ids(platform_campaign: Any) -> list[tuple[str, str]]:
    """(label, id) for every object the platform created, ad groups named as in AdFlux."""
    labels = {
        "campaign": lambda name: _("campaign"),
        "ad_group": lambda name: _("ad group · %(name)s", name=name),
        "ad": lambda name: _("ad · %(name)s", name=name),
        "creative": lambda name: _("creative"),
    }
    return [
        (labels[kind](name) if kind in labels else name, value)
        for kind, name, value in dashboard.platform_objects(platform_campaign)
    ]


@bp.post("/campaigns/<int:campaign_id>/actions/<action>")
@login_required("manager")
def campaign_action(campaign_id: int, action: str) -> BaseResponse:
    """Publish, pause, resume or retry a campaign (a CSRF-protected form), then back to its page."""
    if action not in ACTIONS:
        abort(404)
    service, starts_task = ACTIONS[action]
    try:
        result = service(campaign_id=campaign_id)
    except NotFound:
        raise
    except InvalidTransition as exc:
        current = campaigns_service.get_campaign(campaign_id=campaign_id).status
        flash(_("Not possible while the campaign is %(status)s.", status=status_label(current)), "error")
        logger.info("dashboard action %s on campaign %s refused: %s", action, campaign_id, exc.message)
    except ServiceUnavailable as exc:
        flash(_("The platforms or the task queue did not answer; try again in a few minutes."), "error")
        logger.warning("dashboard action %s on campaign %s failed: %s", action, campaign_id, exc.message)
    except DomainError as exc:
        flash(_("Could not do that: %(reason)s", reason=exc.message), "error")
    else:
        if starts_task:
            _flash_publishing(campaign_id)
        else:
            flash(_("Done: the campaign is now %(status)s.", status=status_label(result.status)), "success")
    return redirect(url_for("web.campaign_detail", campaign_id=campaign_id))
