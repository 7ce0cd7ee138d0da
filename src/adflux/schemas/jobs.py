"""Job opening schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, JOB_STATUSES, MODALITIES
from adflux.schemas.common import FastDumpSchema, PageArgsSchema, page_schema

_MAX_SALARY = 1_000_000_000  # 1,000 M COP a month: anything above is a typo


class JobOpeningSchema(FastDumpSchema):
    id = fields.Int(dump_only=True)
    external_ref = fields.Str(validate=validate.Length(min=1, max=64))
    title = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    description = fields.Str(load_default="", validate=validate.Length(max=20_000))
    company = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    city = fields.Str(required=True, validate=validate.Length(min=2, max=80))
    department = fields.Str(required=True, validate=validate.Length(min=2, max=80))
    country = fields.Str(load_default="CO", validate=validate.Length(equal=2))
    category = fields.Str(required=True, validate=validate.OneOf(JOB_CATEGORIES))
    modality = fields.Str(required=True, validate=validate.OneOf(MODALITIES))
    salary_min = fields.Int(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=_MAX_SALARY)
    )
    salary_max = fields.Int(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=_MAX_SALARY)
    )
    salary_currency = fields.Str(load_default="COP", validate=validate.OneOf(["COP"]))
    education_required = fields.Str(
        allow_none=True, load_default=None, validate=validate.OneOf(EDUCATION_LEVELS)
    )
    experience_years_min = fields.Int(load_default=0, validate=validate.Range(min=0, max=50))
    apply_url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=500))
    status = fields.Str(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)
    close_reason = fields.Str(
        dump_only=True,
        allow_none=True,
        metadata={"description": "manual, feed_gone, feed_closed or expired"},
    )
    feed_id = fields.Int(dump_only=True, allow_none=True, metadata={"description": "The feed that lists it"})
    expires_at = fields.DateTime(dump_only=True, allow_none=True)

    @validates_schema
    def _salary_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("salary_min"), data.get("salary_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("salary_min must not exceed salary_max", field_name="salary_max")


class JobUpdateSchema(JobOpeningSchema):
    """Partial update (use with partial=True): every field optional, the same rules."""

    external_ref = fields.Str(dump_only=True)


class JobListArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(JOB_STATUSES))
    city = fields.Str(validate=validate.Length(max=80))
    category = fields.Str(validate=validate.OneOf(JOB_CATEGORIES))
    modality = fields.Str(validate=validate.OneOf(MODALITIES))
    q = fields.Str(validate=validate.Length(min=1, max=100), metadata={"description": "Text search"})


JobPageSchema = page_schema(JobOpeningSchema, "JobPage")
