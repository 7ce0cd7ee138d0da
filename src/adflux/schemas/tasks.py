"""Task run schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adflux.constants import TASK_STATUSES
from adflux.schemas.common import CursorArgsSchema, page_schema


class TaskRunSchema(Schema):
    id = fields.Str(required=True)
    kind = fields.Str(required=True)
    status = fields.Str(required=True)
    stage = fields.Str(allow_none=True)
    progress = fields.Float(required=True)
    params = fields.Dict()
    result = fields.Dict(allow_none=True)
    error = fields.Str(allow_none=True)
    subject_type = fields.Str(allow_none=True)
    subject_id = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class TaskListArgsSchema(CursorArgsSchema):
    kind = fields.Str(validate=validate.Length(max=50))
    status = fields.Str(validate=validate.OneOf(TASK_STATUSES))


TaskRunPageSchema = page_schema(TaskRunSchema, "TaskRunPage")
