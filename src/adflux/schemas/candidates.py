"""Candidate schemas. Email is write-only: it is PII and never returned by the API."""

from __future__ import annotations

from datetime import UTC, date

from marshmallow import fields, validate

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.schemas.common import CursorArgsSchema, FastDumpSchema, page_schema

_SKILL = fields.Str(validate=validate.Length(min=1, max=60))


class CandidateSchema(FastDumpSchema):
    id = fields.Int(dump_only=True)
    external_ref = fields.Str(validate=validate.Length(min=1, max=64))
    birth_year = fields.Int(
        required=True, validate=validate.Range(min=date.today().year - 90, max=date.today().year - 15)
    )
    city = fields.Str(required=True, validate=validate.Length(min=2, max=80))
    department = fields.Str(required=True, validate=validate.Length(min=2, max=80))
    education_level = fields.Str(required=True, validate=validate.OneOf(EDUCATION_LEVELS))
    years_experience = fields.Int(load_default=0, validate=validate.Range(min=0, max=60))
    desired_category = fields.Str(required=True, validate=validate.OneOf(JOB_CATEGORIES))
    desired_modality = fields.Str(required=True, validate=validate.OneOf(MODALITIES))
    expected_salary = fields.Int(required=True, validate=validate.Range(min=0, max=1_000_000_000))
    skills = fields.List(_SKILL, load_default=list, validate=validate.Length(max=50))
    languages = fields.List(fields.Str(validate=validate.Length(min=2, max=30)), load_default=list)
    last_active_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC)
    email = fields.Email(
        load_only=True, allow_none=True, load_default=None, validate=validate.Length(max=254)
    )
    marketing_consent = fields.Bool(load_default=False)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CandidateListArgsSchema(CursorArgsSchema):
    city = fields.Str(validate=validate.Length(max=80))
    education_level = fields.Str(validate=validate.OneOf(EDUCATION_LEVELS))
    desired_category = fields.Str(validate=validate.OneOf(JOB_CATEGORIES))
    segment_id = fields.Int(
        validate=validate.Range(min=1, max=2**31 - 1), metadata={"description": "Members of a segment"}
    )


CandidatePageSchema = page_schema(CandidateSchema, "CandidatePage")
