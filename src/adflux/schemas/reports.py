"""Report schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from adflux.constants import (
    JOB_CATEGORIES,
    PLATFORMS,
    REPORT_DIMENSIONS,
    REPORT_PAGE_DEFAULT,
    REPORT_PAGE_MAX,
)
from adflux.schemas.common import FastDumpSchema


class ReportFilterArgsSchema(Schema):
    group_by = DelimitedList(
        fields.Str(validate=validate.OneOf(REPORT_DIMENSIONS)),
        load_default=lambda: ["platform"],
        validate=validate.Length(max=len(REPORT_DIMENSIONS)),
        metadata={"description": "Comma-separated: campaign, platform, segment, category, day"},
    )
    since = fields.Date(metadata={"description": "First day (default: 30 days before until)"})
    until = fields.Date(metadata={"description": "Last day (default: today in Bogotá)"})
    campaign_id = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    platform = fields.Str(validate=validate.OneOf(PLATFORMS))
    segment_id = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    category = fields.Str(validate=validate.OneOf(JOB_CATEGORIES))


class ReportArgsSchema(ReportFilterArgsSchema):
    limit = fields.Int(
        load_default=REPORT_PAGE_DEFAULT,
        validate=validate.Range(min=1, max=REPORT_PAGE_MAX),
        metadata={"description": f"Rows per page (default {REPORT_PAGE_DEFAULT}, at most {REPORT_PAGE_MAX})"},
    )
    cursor = fields.Str(
        validate=validate.Length(max=500),
        metadata={"description": "The previous page's next_cursor: the rows after its last one"},
    )


class ReportCsvArgsSchema(ReportFilterArgsSchema):
    style = fields.Str(
        load_default="excel",
        validate=validate.OneOf(("excel", "plain")),
        metadata={"description": "excel: for Excel in es-CO (BOM, ';', decimal comma); plain: for scripts"},
    )
    lang = fields.Str(
        load_default="es", validate=validate.OneOf(("es", "en")), metadata={"description": "Header language"}
    )


class RangeArgsSchema(Schema):
    since = fields.Date()
    until = fields.Date()


class MetricsSchema(FastDumpSchema):
    impressions = fields.Int(required=True)
    reach = fields.Int(required=True)
    engagements = fields.Int(allow_none=True)
    clicks = fields.Int(required=True)
    spend_micros = fields.Int(required=True)
    spend = fields.Float(required=True, metadata={"description": "COP"})
    applications = fields.Int(required=True)
    ctr = fields.Float(allow_none=True)
    cpc = fields.Float(allow_none=True, metadata={"description": "COP per click"})
    cpa = fields.Float(allow_none=True, metadata={"description": "COP per application"})


class ReportRowSchema(MetricsSchema):
    campaign = fields.Int()
    campaign_name = fields.Str(allow_none=True)
    platform = fields.Str()
    segment = fields.Int(allow_none=True)
    segment_name = fields.Str(allow_none=True)
    category = fields.Str()
    day = fields.Date()
    rank = fields.Int()


class ReportSchema(FastDumpSchema):
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    group_by = fields.List(fields.Str(), required=True)
    rows = fields.List(fields.Nested(ReportRowSchema), required=True)
    totals = fields.Nested(
        MetricsSchema, required=True, metadata={"description": "Over every row, every page"}
    )


class PagedReportSchema(ReportSchema):
    limit = fields.Int(required=True)
    has_more = fields.Bool(required=True, metadata={"description": "More rows follow: ask with next_cursor"})
    next_cursor = fields.Str(allow_none=True, required=True)


class TrendPointSchema(MetricsSchema):
    date = fields.Date(required=True)


class PlatformTotalsSchema(MetricsSchema):
    platform = fields.Str(required=True)


class OverviewSchema(FastDumpSchema):
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    totals = fields.Nested(MetricsSchema, required=True)
    trend = fields.List(fields.Nested(TrendPointSchema), required=True)
    platforms = fields.List(fields.Nested(PlatformTotalsSchema), required=True)


class CampaignSeriesSchema(FastDumpSchema):
    campaign_id = fields.Int(required=True)
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    series = fields.Dict(
        keys=fields.Str(), values=fields.List(fields.Nested(TrendPointSchema)), required=True
    )
    totals = fields.Dict(keys=fields.Str(), values=fields.Nested(MetricsSchema), required=True)


class WeeklyArgsSchema(Schema):
    week_of = fields.Date(metadata={"description": "Any day of the week wanted (default: this week, Bogotá)"})


class FeedbackCountsSchema(Schema):
    total = fields.Int(required=True)
    by_kind = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)


class WeeklyReportSchema(Schema):
    week_start = fields.Date(required=True, metadata={"description": "Monday"})
    week_end = fields.Date(required=True, metadata={"description": "Sunday"})
    spend = fields.Int(required=True, metadata={"description": "COP, whole pesos"})
    applications = fields.Int(required=True)
    campaigns_created = fields.Int(required=True)
    alerts_opened = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)
    tasks_failed = fields.Int(required=True)
    feedback = fields.Nested(FeedbackCountsSchema, required=True)
