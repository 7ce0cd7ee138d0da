"""Campaign schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adflux.constants import CAMPAIGN_LIST_SORTS, CAMPAIGN_OBJECTIVES, CAMPAIGN_STATUSES, PLATFORMS
from adflux.schemas.common import FastDumpSchema, PageArgsSchema, page_schema

_PESOS = validate.Range(min=1, max=10**13)


class CampaignCreateSchema(Schema):
    job_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    platforms = fields.List(
        fields.Str(validate=validate.OneOf(PLATFORMS)), required=True, validate=validate.Length(min=1, max=5)
    )
    segment_ids = fields.List(
        fields.Int(validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=list,
        validate=validate.Length(max=20),
    )
    budget_total = fields.Int(required=True, validate=_PESOS, metadata={"description": "Whole COP"})
    budget_daily = fields.Int(allow_none=True, load_default=None, validate=_PESOS)
    start_date = fields.Date(allow_none=True, load_default=None)
    end_date = fields.Date(allow_none=True, load_default=None)
    target_cpa = fields.Int(allow_none=True, load_default=None, validate=_PESOS)
    objective = fields.Str(load_default="traffic", validate=validate.OneOf(CAMPAIGN_OBJECTIVES))
    weights = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(PLATFORMS)),
        values=fields.Float(validate=validate.Range(min=0, max=1000)),
        allow_none=True,
        load_default=None,
        metadata={"description": "Budget weight per platform (default: even split)"},
    )
    name = fields.Str(allow_none=True, load_default=None, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError("end_date must not be before start_date", field_name="end_date")


class AdGroupSchema(FastDumpSchema):
    id = fields.Int()
    name = fields.Str()
    segment_id = fields.Int(allow_none=True)
    external_id = fields.Str(allow_none=True)
    budget_daily = fields.Int(allow_none=True)
    status = fields.Str(
        metadata={
            "description": "The ad group's own delivery: active or paused (by a rule or by hand); "
            "its platform campaign's update_status says whether the platform has it yet"
        }
    )


class PlatformCampaignSchema(FastDumpSchema):
    id = fields.Int()
    platform = fields.Str()
    status = fields.Str()
    external_campaign_id = fields.Str(allow_none=True)
    external_ids = fields.Dict()
    budget_total = fields.Int()
    budget_daily = fields.Int(allow_none=True)
    budget_weight = fields.Float()
    attempts = fields.Int()
    last_error = fields.Str(allow_none=True)
    error_class = fields.Str(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    update_status = fields.Str(
        allow_none=True,
        metadata={"description": "In-place update: pending, applied or failed (None: never changed)"},
    )
    update_error = fields.Str(allow_none=True)
    update_revision = fields.Int()
    applied_revision = fields.Int()
    ad_groups = fields.List(fields.Nested(AdGroupSchema))


class CampaignSchema(FastDumpSchema):
    id = fields.Int()
    job_id = fields.Int()
    name = fields.Str()
    objective = fields.Str()
    status = fields.Str()
    pending_action = fields.Str(
        allow_none=True,
        metadata={"description": "An action that reached only some platforms (retry-action finishes it)"},
    )
    budget_total = fields.Int()
    budget_daily = fields.Int(allow_none=True)
    target_cpa = fields.Int(allow_none=True)
    playbook_id = fields.Int(
        allow_none=True, metadata={"description": "The playbook that made it (None: by hand)"}
    )
    approval_status = fields.Str(
        allow_none=True, metadata={"description": "pending, approved or rejected (None: no approval asked)"}
    )
    approval_note = fields.Str(allow_none=True, metadata={"description": "Why it was rejected"})
    automation_hold = fields.Str(
        allow_none=True,
        metadata={"description": "job_closed: paused as its job closed (resumes if reopened)"},
    )
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    segment_ids = fields.Method("_segment_ids", dump_only=True)
    owner_id = fields.Int(
        attribute="effective_owner_id",
        dump_only=True,
        allow_none=True,
        metadata={"description": "Who is told when it needs attention (the creator unless changed)"},
    )
    platform_campaigns = fields.List(fields.Nested(PlatformCampaignSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _segment_ids(self, campaign: Any) -> list[int]:
        return [s.id for s in campaign.segments]


class CampaignSummarySchema(CampaignSchema):
    class Meta:
        exclude = ("segment_ids",)


class CampaignOwnerSchema(Schema):
    owner = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "The new owner: a manager's or admin's user id or e-mail"},
    )


class CampaignListArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(CAMPAIGN_STATUSES))
    job_id = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    sort = fields.Str(
        validate=validate.OneOf(CAMPAIGN_LIST_SORTS),
        metadata={"description": "Order of the list (spend, applications and cpa: results so far)."},
    )
    descending = fields.Bool(metadata={"description": "Largest (or newest, or Z) first; default true."})


class PreviewSchema(Schema):
    campaign_id = fields.Int(required=True)
    status = fields.Str(required=True)
    platforms = fields.List(fields.Dict(), required=True)


CampaignPageSchema = page_schema(CampaignSummarySchema, "CampaignPage")
