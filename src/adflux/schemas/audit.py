"""Audit trail schemas."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from adflux.schemas.common import CursorArgsSchema, page_schema


class AuditEventSchema(Schema):
    id = fields.Int(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Int(allow_none=True)
    actor = fields.Str(required=True)
    action = fields.Str(required=True)
    entity_type = fields.Str(required=True)
    entity_id = fields.Str(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.Str(allow_none=True)


class AuditEventListArgsSchema(CursorArgsSchema):
    entity_type = fields.Str(validate=validate.Length(max=40))
    entity_id = fields.Str(validate=validate.Length(max=64))
    actor = fields.Str(validate=validate.Length(max=120), metadata={"description": "E-mail or local:<name>"})
    action = fields.Str(
        validate=validate.Length(max=61), metadata={"description": "Exact, or a prefix ending in *"}
    )
    # Times without a zone are taken as UTC (how AdFlux stores them).
    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC)


AuditEventPageSchema = page_schema(AuditEventSchema, "AuditEventPage")
