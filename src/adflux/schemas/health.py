"""Health and status schemas."""

from __future__ import annotations

from marshmallow import Schema, fields


class CheckSchema(Schema):
    name = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "ok, fail or unknown"})
    critical = fields.Bool(required=True, metadata={"description": "A failure makes the service not ready"})
    latency_ms = fields.Float(allow_none=True)
    detail = fields.Str()
    data = fields.Dict()


class HealthSchema(Schema):
    status = fields.Str(required=True, metadata={"description": "ok, degraded or fail"})
    ready = fields.Bool(required=True)
    version = fields.Str(required=True)
    checked_at = fields.DateTime(required=True)
    checks = fields.List(fields.Nested(CheckSchema), required=True)


class OpenAlertSchema(Schema):
    id = fields.Int(required=True)
    rule = fields.Str(required=True)
    key = fields.Str(required=True)
    severity = fields.Str(required=True)
    title = fields.Str(metadata={"description": "The rule's title, in the request's language"})
    about = fields.Str(metadata={"description": "What the alert is about, as people say it"})
    severity_label = fields.Str(metadata={"description": "The severity, in the request's language"})
    message = fields.Str(required=True)
    opened_at = fields.DateTime(required=True)


class ModelStatusSchema(Schema):
    active_version = fields.Int(allow_none=True)
    silhouette = fields.Float(allow_none=True)
    drift = fields.Float(allow_none=True)
    activated_at = fields.DateTime(allow_none=True)


class BackupSchema(Schema):
    name = fields.Str(required=True)
    path = fields.Str(required=True)
    dialect = fields.Str(required=True)
    size_bytes = fields.Int(required=True)
    created_at = fields.DateTime(required=True)
    sha256 = fields.Str(allow_none=True)
    revision = fields.Str(allow_none=True)
    tables = fields.Dict(keys=fields.Str(), values=fields.Int())


class StatusSchema(HealthSchema):
    workers = fields.List(
        fields.Str(), allow_none=True, metadata={"description": "Workers that answered; null = embedded mode"}
    )
    queues = fields.Dict(keys=fields.Str(), values=fields.Int())
    model = fields.Nested(ModelStatusSchema, allow_none=True)
    alerts = fields.List(fields.Nested(OpenAlertSchema))
    tasks_last_24h = fields.Dict(keys=fields.Str(), values=fields.Int())
    last_backup = fields.Nested(BackupSchema, allow_none=True)


class StatusArgsSchema(Schema):
    workers = fields.Bool(load_default=True, metadata={"description": "Ping Celery workers (up to 1 s)"})
    fresh = fields.Bool(load_default=False, metadata={"description": "Skip the cached platform answers"})
