"""Alert schemas: history, filters, rules and an evaluation's outcome."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from adflux.constants import ALERT_RULE_NAMES, ALERT_SEVERITIES, ALERT_STATUSES
from adflux.schemas.common import PageArgsSchema, page_schema


class AlertSchema(Schema):
    id = fields.Int(required=True)
    rule = fields.Str(required=True)
    key = fields.Str(required=True, metadata={"description": 'What it is about, e.g. "campaign:12"'})
    severity = fields.Str(required=True)
    status = fields.Str(required=True)
    title = fields.Str(metadata={"description": "The rule's title, in the request's language"})
    about = fields.Str(metadata={"description": "What the alert is about, as people say it"})
    severity_label = fields.Str(metadata={"description": "The severity, in the request's language"})
    message = fields.Str(
        required=True,
        metadata={"description": "In the request's language (Accept-Language) where the check allows"},
    )
    value = fields.Float(allow_none=True)
    threshold = fields.Float(allow_none=True)
    details = fields.Dict()
    opened_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    notified_at = fields.DateTime(allow_none=True)
    notifications = fields.Int(required=True)


class AlertListArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(ALERT_STATUSES))
    rule = fields.Str(validate=validate.OneOf(ALERT_RULE_NAMES))
    severity = fields.Str(validate=validate.OneOf(ALERT_SEVERITIES))
    key = fields.Str(validate=validate.Length(max=120))
    since = fields.AwareDateTime(
        default_timezone=None, metadata={"description": "Opened at or after (ISO 8601)"}
    )
    until = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Opened before (ISO 8601)"})


AlertPageSchema = page_schema(AlertSchema, "AlertPage")


class AlertRuleSchema(Schema):
    name = fields.Str(required=True)
    severity = fields.Str(required=True)
    audience = fields.Str(required=True, metadata={"description": "operator or marketing"})
    summary = fields.Str(required=True)
    description = fields.Str(required=True)
    threshold = fields.Float(allow_none=True)
    threshold_setting = fields.Str(allow_none=True)
    for_ = fields.Str(data_key="for", required=True)
    expr = fields.Str(required=True, metadata={"description": "The same rule in PromQL"})


class EvaluationSchema(Schema):
    opened = fields.List(fields.Int(), required=True)
    resolved = fields.List(fields.Int(), required=True)
    still_open = fields.List(fields.Int(), required=True)
    notified = fields.Int(required=True)
    notify_failures = fields.Int(required=True)
    errors = fields.Dict(keys=fields.Str(), values=fields.Str())
    skipped = fields.List(fields.Str())
