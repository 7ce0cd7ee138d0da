"""Job feeds, feed runs, playbooks and approvals: what the API reads and writes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adflux.constants import CAMPAIGN_OBJECTIVES, PLATFORMS
from adflux.schemas.campaigns import CampaignSchema
from adflux.schemas.common import FastDumpSchema, PageArgsSchema, page_schema

FEED_FORMATS = ("xml", "json", "jsonl", "csv")
_ID = validate.Range(min=1, max=2**31 - 1)
_PESOS = validate.Range(min=1, max=10**12)
RUN_STATUSES = ("queued", "running", "succeeded", "unchanged", "failed", "skipped")


class FeedSchema(FastDumpSchema):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=2, max=120))
    location = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "An http(s):// address or an absolute file path"},
    )
    format = fields.Str(
        validate=validate.OneOf(FEED_FORMATS), metadata={"description": "Guessed from the name when left out"}
    )
    mapping = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(),
        metadata={"description": 'The feed\'s name for an AdFlux field, e.g. {"title": "puesto"}'},
    )
    interval_minutes = fields.Int(validate=validate.Range(min=1, max=10080))
    enabled = fields.Bool()
    max_shrink = fields.Float(
        validate=validate.Range(min=0.01, max=1),
        metadata={"description": "A run listing this share fewer openings than the last one closes nothing"},
    )
    last_run_at = fields.DateTime(dump_only=True, allow_none=True)
    last_status = fields.Str(dump_only=True, allow_none=True)
    last_count = fields.Int(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class FeedUpdateSchema(FeedSchema):
    """A change to a feed (use with partial=True)."""


class FeedRunSchema(FastDumpSchema):
    id = fields.Int()
    feed_id = fields.Int()
    status = fields.Str(metadata={"description": ", ".join(RUN_STATUSES)})
    trigger = fields.Str()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    listed = fields.Int()
    new = fields.Int()
    changed = fields.Int()
    unchanged = fields.Int()
    closed = fields.Int()
    reopened = fields.Int()
    rejected = fields.Int()
    bytes_read = fields.Int()
    errors = fields.List(
        fields.Dict(), metadata={"description": "Rejected rows: line or record, reference, reason"}
    )
    error = fields.Str(allow_none=True, metadata={"description": "Why the run failed"})


class FeedRunArgsSchema(PageArgsSchema):
    feed_id = fields.Int(validate=_ID)


FeedRunPageSchema = page_schema(FeedRunSchema, "FeedRunPage")


class PlaybookSchema(FastDumpSchema):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=2, max=120))
    position = fields.Int(
        validate=validate.Range(min=0, max=1_000_000), metadata={"description": "Lower first"}
    )
    enabled = fields.Bool()
    conditions = fields.Dict(
        metadata={
            "description": "categories, cities, departments, companies, modalities, keywords (lists); "
            "salary_min, salary_max, experience_min, experience_max (numbers)"
        }
    )
    platforms = fields.List(
        fields.Str(validate=validate.OneOf(PLATFORMS)), required=True, validate=validate.Length(min=1, max=5)
    )
    segment_ids = fields.List(fields.Int(validate=_ID), validate=validate.Length(max=50))
    best_segments = fields.Int(
        allow_none=True,
        validate=validate.Range(min=1, max=20),
        metadata={"description": "The best k segments for the category"},
    )
    budget_total = fields.Int(allow_none=True, validate=_PESOS, metadata={"description": "COP; or a formula"})
    budget_formula = fields.Str(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"description": "e.g. salary_max * 0.5 (salary_min, salary_max, salary, ...)"},
    )
    budget_daily = fields.Int(allow_none=True, validate=_PESOS)
    flight_days = fields.Int(
        allow_none=True,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "None: until it closes"},
    )
    target_cpa = fields.Int(allow_none=True, validate=_PESOS)
    objective = fields.Str(validate=validate.OneOf(CAMPAIGN_OBJECTIVES))
    requires_approval = fields.Bool()
    created_at = fields.DateTime(dump_only=True)


class PlaybookUpdateSchema(PlaybookSchema):
    """A change to a playbook (use with partial=True)."""


class DryRunArgsSchema(Schema):
    playbook_id = fields.Int(validate=_ID)
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class DryRunSchema(Schema):
    playbooks = fields.List(fields.Dict())
    openings = fields.List(fields.Dict())


ApprovalPageSchema = page_schema(CampaignSchema, "ApprovalPage")


class RejectSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=3, max=500))
