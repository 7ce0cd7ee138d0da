"""Schemas for changing a live campaign (PATCH /campaigns/<id>)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adflux.constants import PLATFORMS

_PESOS = validate.Range(min=1, max=10**13)


class CampaignChangeSchema(Schema):
    """Only the fields sent change; the rest stay as they are."""

    budget_total = fields.Int(
        validate=_PESOS, metadata={"description": "Whole COP; not below what was spent"}
    )
    budget_daily = fields.Int(validate=_PESOS, metadata={"description": "Whole COP, split by the weights"})
    end_date = fields.Date(metadata={"description": "Not in the past (Bogotá)"})
    target_cpa = fields.Int(validate=_PESOS)
    platform_weights = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(PLATFORMS)),
        values=fields.Float(validate=validate.Range(min=0, min_inclusive=False, max=1000)),
        metadata={"description": "New budget weight per platform (the others keep theirs)"},
    )
    add_segment_ids = fields.List(
        fields.Int(validate=validate.Range(min=1)),
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Segments to add: a new ad group on every platform, switched on"},
    )
    remove_segment_ids = fields.List(
        fields.Int(validate=validate.Range(min=1)),
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Segments to remove: their ad groups paused on every platform (kept)"},
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one field to change", field_name="_schema")


class CampaignChangeResultSchema(Schema):
    campaign_id = fields.Int(required=True)
    unchanged = fields.Bool(required=True, metadata={"description": "True: it already was so; nothing sent"})
    changed = fields.Dict(required=True, metadata={"description": "Field -> new value"})
    queued = fields.Dict(
        keys=fields.Str(),
        values=fields.Int(),
        required=True,
        metadata={
            "description": "Platform -> update revision queued (each platform's update_status follows)"
        },
    )
