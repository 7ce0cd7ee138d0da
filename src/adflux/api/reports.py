"""/api/v1/reports: campaign performance."""

from __future__ import annotations

from typing import Any

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.response_cache import QueryArgs, cached_read
from adflux.api.tasks import accepted
from adflux.schemas.common import ApiErrorSchema, TaskAcceptedSchema
from adflux.schemas.reports import (
    CampaignSeriesSchema,
    OverviewSchema,
    PagedReportSchema,
    RangeArgsSchema,
    ReportArgsSchema,
    ReportCsvArgsSchema,
    ReportSchema,
    WeeklyArgsSchema,
    WeeklyReportSchema,
)
from adflux.services import metrics_sync, report_exports
from adflux.services import reports as reports_service
from adflux.services.autocommit_reads import reads_only
from adflux.services.local_dates import today
from adflux.services.weekly_report import weekly_report
from adflux.settings import Settings

URL_PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Performance reports")

# A report over every campaign by platform and/or day reads only `daily_metric_totals` (see
# services.reports._source), which has a token; any other shape or filter reads tables without one.
_DAY_TOTALS_DIMENSIONS = {"platform", "day"}
_DAY_TOTALS_ARGUMENTS = {"group_by", "since", "until", "platform", "limit", "cursor"}


def _from_day_totals(args: QueryArgs, settings: Settings) -> tuple[object, ...] | None:
    """The rest of the key for a report read from the day/platform totals: today's date (the
    default window ends today); None (no cache) for every other report."""
    if not {name for name, _value in args} <= _DAY_TOTALS_ARGUMENTS:
        return None
    asked = {part.strip() for name, value in args if name == "group_by" for part in value.split(",")}
    if not asked <= _DAY_TOTALS_DIMENSIONS:
        return None
    return (today(settings).isoformat(),)


@blp.route("/performance")
class PerformanceReport(MethodView):
    @requires("viewer")
    @blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
    @cached_read("daily_metric_totals", vary=_from_day_totals)
    @blp.arguments(ReportArgsSchema(), location="query")
    @blp.response(200, PagedReportSchema)
    @reads_only
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Impressions, reach, clicks, spend, applications, CTR, CPC and CPA, grouped as asked.

        Rows are sorted by campaign (when grouped by it), then by the other `group_by` dimensions in
        the order given (among segments, the broad audience first), and come a page at a time:
        `limit` rows (default 100, at most 1,000); when `has_more` is true, pass `next_cursor` as
        `cursor` for the rows after. `totals` cover every row of every page. `performance.csv`
        gives every row in one download. By platform and/or day over every campaign, answers
        carry an ETag; send it back in If-None-Match to get a 304 while no metric has changed.
        """
        return reports_service.performance_report(**args)


@blp.route("/performance.csv")
class PerformanceReportCsv(MethodView):
    @requires("viewer")
    @blp.arguments(ReportCsvArgsSchema(), location="query")
    @blp.response(200, description="The same report as CSV", content_type="text/csv")
    def get(self, args: dict[str, Any]) -> Response:
        """The performance report as a CSV download: every row (streamed, page by page), then the totals.

        `style=excel` (default) opens right in Excel set to Colombian Spanish: BOM, `;`, decimal
        commas, whole pesos, labels, Spanish headers (`lang=en` for English ones);
        `style=plain` is for scripts: `,`, dot decimals, codes and the API's field names.
        """
        style, language = args.pop("style"), args.pop("lang")
        query = {**args, "limit": report_exports.EXPORT_PAGE}
        report = reports_service.performance_report(**query)  # bad input answers 400 before streaming
        rows = reports_service.iter_report_rows(report, **query)
        chunks = report_exports.report_csv_chunks(report, rows, style=style, language=language)
        return Response(
            stream_with_context(chunks),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=adflux-performance.csv"},
        )


@blp.route("/weekly")
class WeeklyReport(MethodView):
    @requires("viewer")
    @blp.arguments(WeeklyArgsSchema(), location="query")
    @blp.response(200, WeeklyReportSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """One Bogotá week: spend, applications, campaigns, alerts, failed tasks and suggestions."""
        return weekly_report(**args)


@blp.route("/segments")
class SegmentComparison(MethodView):
    @requires("viewer")
    @blp.arguments(RangeArgsSchema(), location="query")
    @blp.response(200, ReportSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Segments ranked by cost per application."""
        return reports_service.segment_comparison(**args)


@blp.route("/overview")
class Overview(MethodView):
    @requires("viewer")
    @blp.arguments(RangeArgsSchema(), location="query")
    @blp.response(200, OverviewSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """KPIs and the daily trend across all campaigns."""
        return reports_service.overview(**args)


@blp.route("/campaigns/<int:campaign_id>/platforms")
class PlatformComparison(MethodView):
    @requires("viewer")
    @blp.arguments(RangeArgsSchema(), location="query")
    @blp.response(200, ReportSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], campaign_id: int) -> dict[str, Any]:
        """One campaign's platforms side by side."""
        return reports_service.platform_comparison(campaign_id=campaign_id, **args)


@blp.route("/campaigns/<int:campaign_id>/daily")
class CampaignDaily(MethodView):
    @requires("viewer")
    @blp.arguments(RangeArgsSchema(), location="query")
    @blp.response(200, CampaignSeriesSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], campaign_id: int) -> dict[str, Any]:
        """One campaign per platform per day, for charts."""
        return reports_service.campaign_timeseries(campaign_id=campaign_id, **args)


@blp.route("/sync")
class MetricsSync(MethodView):
    @requires("manager")
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self) -> Any:
        """Pull the latest insights from every platform now (the same task beat runs hourly)."""
        return accepted(metrics_sync.start_sync())
