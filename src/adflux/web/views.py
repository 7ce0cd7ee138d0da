"""Dashboard pages: thin views that call the services and render templates."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import CAMPAIGN_STATUSES, PLATFORM_LABELS, TASK_STATUSES
from adflux.models import Campaign, PlatformCampaign, TaskRun
from adflux.services import alerting, dashboard, local_dates, task_runs
from adflux.services import audit as audit_service
from adflux.services import campaigns as campaigns_service
from adflux.services import reports as reports_service
from adflux.services import segmentation as segmentation_service
from adflux.services.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from adflux.settings import current_settings
from adflux.web import charts, i18n
from adflux.web.auth import current_session_user, login_required
from adflux.web.formatting import local_datetime, status_label

logger = logging.getLogger(__name__)

# /assets, not /static: the app's own (empty) static route already answers /static/.
bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_SIZE = 25
DEFAULT_RANGE_DAYS = 30
RANGE_PRESETS = (7, 30, 90)
# The segment explorer compares at most this many model versions (newest first).
MAX_MODEL_VERSIONS = 50
# A campaign page charts at most this many days back from its last day.
CAMPAIGN_CHART_DAYS = 365
ACTIONS: dict[str, Callable[..., TaskRun | Campaign]] = {
    "publish": campaigns_service.publish_campaign,
    "pause": campaigns_service.pause_campaign,
    "resume": campaigns_service.resume_campaign,
    "retry_failed": campaigns_service.retry_failed,
}


# -- overview -----------------------------------------------------------------------------------


@bp.get("/")
@login_required("viewer")
def index() -> str:
    """KPIs and daily trends across every campaign over a date range."""
    since, until = _date_range()
    report = reports_service.overview(since=since, until=until)
    by_campaign = reports_service.performance_report(group_by=("campaign",), since=since, until=until)
    top = sorted(by_campaign["rows"], key=lambda r: r["spend"], reverse=True)[:10]
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
    until = _last_day()
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
        until = _last_day()
        return until - timedelta(days=DEFAULT_RANGE_DAYS - 1), until
    return since, until


def _last_day(campaign_id: int | None = None) -> date:
    today = local_dates.today()
    latest = dashboard.latest_metric_day(campaign_id=campaign_id)
    return max(today, latest) if latest else today


# -- campaigns ----------------------------------------------------------------------------------


@bp.get("/campaigns")
@login_required("viewer")
def campaign_list() -> str:
    """Campaigns, newest first, filtered by status."""
    status = request.args.get("status") or None
    if status not in (None, *CAMPAIGN_STATUSES):
        abort(404)
    page = campaigns_service.list_campaigns(status=status, page=_page_number(), page_size=PAGE_SIZE)
    return render_template(
        "campaigns/list.html",
        page=page,
        status=status,
        status_counts=dashboard.campaign_status_counts(),
        platform_labels=PLATFORM_LABELS,
    )


@bp.get("/campaigns/<int:campaign_id>")
@login_required("viewer")
def campaign_detail(campaign_id: int) -> str:
    """One campaign: results per platform over time, platforms, creatives, compliance, actions."""
    campaign = campaigns_service.get_campaign(campaign_id=campaign_id)
    preview = campaigns_service.preview_campaign(campaign_id=campaign_id)
    last = _last_day(campaign_id)
    until = min(campaign.end_date or last, last)
    since = max(campaign.start_date, until - timedelta(days=CAMPAIGN_CHART_DAYS - 1))
    timeseries = comparison = None
    chart_specs: dict[str, Any] = {}
    if since <= until:
        timeseries = reports_service.campaign_timeseries(campaign_id=campaign_id, since=since, until=until)
        comparison = reports_service.platform_comparison(campaign_id=campaign_id, since=since, until=until)
        series = timeseries["series"]
        if series:
            chart_specs = {
                f"campaign-{metric}": charts.platform_series(series, since, until, metric, fmt)
                for metric, fmt in (
                    ("spend", "cop"),
                    ("clicks", "number"),
                    ("applications", "number"),
                    ("ctr", "percent"),
                )
            }
    principal = current_session_user()
    can_act = principal is not None and principal.has_role("manager")
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        preview={p["platform"]: p for p in preview["platforms"]},
        comparison=comparison,
        charts=chart_specs,
        since=since,
        until=until,
        actions=dashboard.available_actions(campaign) if can_act else [],
        task=dashboard.latest_task_run(subject_type="campaign", subject_id=campaign.id),
        platform_ids={pc.id: _platform_ids(pc) for pc in campaign.platform_campaigns},
        platform_labels=PLATFORM_LABELS,
    )


def _platform_ids(pc: PlatformCampaign) -> list[tuple[str, str]]:
    """(label, id) for every object the platform created, ad groups named as in AdFlux."""
    ids = pc.external_ids or {}
    names = {f"s{g.segment_id}" if g.segment_id else "broad": g.name for g in pc.ad_groups}
    rows: list[tuple[str, str]] = []
    if ids.get("campaign_id") or pc.external_campaign_id:
        rows.append((_("campaign"), str(ids.get("campaign_id") or pc.external_campaign_id)))
    for ref, value in (ids.get("ad_groups") or {}).items():
        rows.append((_("ad group · %(name)s", name=names.get(ref, ref)), str(value)))
    for ref, value in (ids.get("ads") or {}).items():
        rows.append((_("ad · %(name)s", name=names.get(ref, ref)), str(value)))
    if ids.get("creative_id"):
        rows.append((_("creative"), str(ids["creative_id"])))
    for name, value in (ids.get("extra") or {}).items():
        if isinstance(value, (str, int)) and value != "":
            rows.append((str(name), str(value)))
    return rows


@bp.post("/campaigns/<int:campaign_id>/actions/<action>")
@login_required("manager")
def campaign_action(campaign_id: int, action: str) -> BaseResponse:
    """Publish, pause, resume or retry a campaign (a CSRF-protected form), then back to its page."""
    service = ACTIONS.get(action)
    if service is None:
        abort(404)
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
        if isinstance(result, TaskRun):
            flash(_("Publishing started; progress is shown below."), "success")
        else:
            flash(_("Done: the campaign is now %(status)s.", status=status_label(result.status)), "success")
    return redirect(url_for("web.campaign_detail", campaign_id=campaign_id))


# -- segments -----------------------------------------------------------------------------------


@bp.get("/segments")
@login_required("viewer")
def segments() -> str:
    """The segment explorer: PCA picture, profiles and every model version's k search."""
    version = request.args.get("version", type=int)
    model = dashboard.pick_model(version=version)
    models = segmentation_service.list_models(page_size=MAX_MODEL_VERSIONS).items
    searches = [(m.version, m.k, dashboard.k_search(m)) for m in models]
    searches = [s for s in searches if s[2]]
    chart_specs: dict[str, Any] = {}
    if model is not None and model.segments:
        pca = segmentation_service.pca_view(version=model.version)
        chart_specs["segment-scatter"] = charts.segment_scatter(
            pca["centroids"], pca["points"], pca["explained_variance_ratio"]
        )
    if searches:
        chart_specs["k-silhouette"] = charts.k_search_curves(searches, "silhouette")
        chart_specs["k-inertia"] = charts.k_search_curves(searches, "inertia")
    ranking = reports_service.segment_comparison()
    return render_template(
        "segments.html",
        model=model,
        models=models,
        k_search=dashboard.k_search(model) if model is not None else [],
        charts=chart_specs,
        ranking=ranking,
    )


# -- background work and alerts -----------------------------------------------------------------


@bp.get("/tasks")
@login_required("viewer")
def task_list() -> str:
    """Background task runs with live progress."""
    status = request.args.get("status") or None
    if status not in (None, *TASK_STATUSES):
        abort(404)
    page = task_runs.list_task_runs(status=status, page=_page_number(), page_size=PAGE_SIZE)
    return render_template("tasks.html", page=page, status=status, statuses=TASK_STATUSES)


@bp.get("/tasks/progress.json")
@login_required("viewer")
def task_progress() -> BaseResponse:
    """Progress of the task runs named by `id` parameters, polled by the pages that show them."""
    runs = dashboard.task_runs(task_ids=request.args.getlist("id"))
    return jsonify(
        {
            "tasks": [
                {
                    "id": run.id,
                    "status": run.status,
                    "status_label": status_label(run.status),
                    "progress": round(run.progress or 0.0, 1),
                    "stage": run.stage,
                    "error": run.error,
                    "finished": run.status in ("succeeded", "failed"),
                    "finished_at": local_datetime(run.finished_at) if run.finished_at else None,
                }
                for run in runs
            ]
        }
    )


@bp.get("/alerts")
@login_required("viewer")
def alerts() -> str:
    """Alerts raised by the monitoring rules, newest first."""
    status = request.args.get("status") or None
    if status not in (None, "open", "resolved"):
        abort(404)
    page = alerting.list_alerts(status=status, page=_page_number(), page_size=PAGE_SIZE)
    return render_template("alerts.html", page=page, status=status, counts=dashboard.alert_counts())


# -- audit trail --------------------------------------------------------------------------------

# The audit filters and the longest value each takes (as the API's AuditEventListArgsSchema).
AUDIT_TEXT_FILTERS = {"entity_id": 64, "actor": 120, "action": 61}


@bp.get("/audit")
@login_required("admin")
def audit_trail() -> str:
    """Every recorded change, newest first: who, what, when, before and after; with filters."""
    entity_types = dashboard.audit_entity_types()
    filters, form = _audit_filters(entity_types)
    page = audit_service.list_events(page=_page_number(), page_size=PAGE_SIZE, **filters)
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


# -- language -----------------------------------------------------------------------------------


@bp.post("/language")
def set_language() -> BaseResponse:
    """Switch the dashboard language (kept in the session), then go back where the person was."""
    if not i18n.remember_locale(request.form.get("locale", "")):
        abort(400)
    return redirect(i18n.same_site_path(request.form.get("next"), url_for("web.index")))


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """The icon browsers ask for on pages that do not name one (e.g. the sign-in page)."""
    return send_from_directory(STATIC_DIR / "img", "favicon.svg", mimetype="image/svg+xml", max_age=86400)


# -- helpers ------------------------------------------------------------------------------------


def _page_number() -> int:
    page = request.args.get("page", default=1, type=int) or 1
    return max(1, min(page, 10_000))


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    return render_template("error.html", code=404, message=_("That page does not exist.")), 404


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    messages = {
        400: _("The request could not be understood."),
        403: _("Your role does not allow this page or action."),
        404: _("That page does not exist."),
    }
    code = error.code or 500
    if code not in messages:
        return error
    return render_template("error.html", code=code, message=messages[code]), code
