"""First-hand report schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adflux.constants import REPORT_PAGE_DEFAULT, REPORT_PAGE_MAX
from adflux.schemas.common import FastDumpSchema

REPORT_WINDOW_DAYS = 30  # the first-hand report's range when no dates are given


class FirstHandReportArgsSchema(Schema):
    since = fields.Date(
        metadata={"description": f"First day (default: {REPORT_WINDOW_DAYS} days before until)"}
    )
    until = fields.Date(metadata={"description": "Last day (default: today in Bogotá)"})
    campaign_id = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Int(
        load_default=REPORT_PAGE_DEFAULT,
        validate=validate.Range(min=1, max=REPORT_PAGE_MAX),
        metadata={
            "description": f"Campaigns per page (default {REPORT_PAGE_DEFAULT}, at most {REPORT_PAGE_MAX})"
        },
    )
    after = fields.Int(
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "The previous page's next_after: the campaigns after it"},
    )


class FirstHandRowSchema(FastDumpSchema):
    campaign_id = fields.Int(required=True)
    platform = fields.Str(required=True)
    spend = fields.Int(required=True, metadata={"description": "COP, whole pesos"})
    clicks = fields.Int(required=True)
    applications_platform = fields.Int(required=True)
    applications_first_hand = fields.Int(required=True)
    applications_gap = fields.Int(required=True)
    cpa_platform = fields.Float(allow_none=True)
    cpa_first_hand = fields.Float(allow_none=True)


class FirstHandReportSchema(FastDumpSchema):
    since = fields.Str(required=True, metadata={"description": "ISO date"})
    until = fields.Str(required=True, metadata={"description": "ISO date"})
    rows = fields.List(fields.Nested(FirstHandRowSchema), required=True)
    unattributed = fields.Int(
        required=True, metadata={"description": "Applications in the range owed to no campaign"}
    )
    limit = fields.Int(required=True)
    next_after = fields.Int(
        allow_none=True, required=True, metadata={"description": "More campaigns follow: pass it as after"}
    )
