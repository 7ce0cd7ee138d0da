"""Budget allocation settings, its log, the off-policy comparison, and forecasts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AllocationSettingsSchema(Schema):
    campaign_id = fields.Int(dump_only=True)
    enabled = fields.Bool(metadata={"description": "Whether the allocator moves this campaign's budget"})
    min_share = fields.Float(
        validate=validate.Range(min=0, max=0.5),
        metadata={"description": "Least share of the daily budget every ad group keeps (to keep learning)"},
    )
    max_move = fields.Float(
        validate=validate.Range(min=0.01, max=1),
        metadata={
            "description": "Most an ad group's budget may move in a day, as a share of the daily budget"
        },
    )
    explore = fields.Float(
        validate=validate.Range(min=0, max=0.2),
        metadata={"description": "Chance that a day's split is drawn at random within the limits"},
    )


class AllocationEntrySchema(Schema):
    day = fields.Date()
    ad_group_id = fields.Int()
    platform_campaign_id = fields.Int()
    platform = fields.Str()
    pool = fields.Int(metadata={"description": "The campaign's daily budget shared that day (COP)"})
    budget_before = fields.Int()
    budget_after = fields.Int()
    share_level = fields.Int()
    propensity = fields.Float()
    explored = fields.Bool()
    expected_cpa = fields.Int(allow_none=True)
    compared_ad_group_id = fields.Int(allow_none=True)
    compared_cpa = fields.Int(allow_none=True)
    status = fields.Str()
    message = fields.Str(allow_none=True, metadata={"description": "The move explained (Spanish)"})
    evidence = fields.Dict()


class AllocationRunSchema(Schema):
    campaign_id = fields.Int()
    day = fields.Date()
    skipped = fields.Str(allow_none=True)
    entries = fields.List(fields.Nested(AllocationEntrySchema))


class EstimateSchema(Schema):
    value = fields.Float()
    low = fields.Float(allow_none=True, metadata={"description": "None: too few campaigns to resample"})
    high = fields.Float(allow_none=True)
    matched = fields.Int()
    effective_size = fields.Float()


class PolicyEstimateSchema(Schema):
    policy = fields.Str()
    ips = fields.Nested(EstimateSchema)
    dr = fields.Nested(EstimateSchema)
    campaign_ips = fields.Float(metadata={"description": "This campaign's part of the pooled IPS estimate"})
    campaign_dr = fields.Float(metadata={"description": "This campaign's part of the pooled DR estimate"})


class ComparisonSchema(Schema):
    campaign_id = fields.Int()
    days = fields.Int(metadata={"description": "This campaign's allocated days"})
    entries = fields.Int(metadata={"description": "This campaign's logged ad group-days"})
    campaigns = fields.Int(metadata={"description": "Allocated campaigns pooled (this one among them)"})
    pooled_entries = fields.Int()
    logged = fields.Nested(EstimateSchema, allow_none=True, metadata={"description": "Pooled"})
    campaign_logged = fields.Float(allow_none=True)
    policies = fields.List(fields.Nested(PolicyEstimateSchema))
    has_interval = fields.Bool(
        metadata={"description": "Whether enough campaigns for the campaign bootstrap"}
    )
    note = fields.Str(allow_none=True, metadata={"description": "Why there is no interval (Spanish first)"})


class ForecastRequestSchema(Schema):
    category = fields.Str(required=True)
    city = fields.Str(required=True)
    platforms = fields.List(fields.Str(), required=True, validate=validate.Length(min=1))
    segments = fields.Int(load_default=1, validate=validate.Range(min=1, max=20))
    budget_total = fields.Int(required=True, validate=validate.Range(min=1, max=10**12))
    days = fields.Int(required=True, validate=validate.Range(min=1, max=366))


class ForecastSchema(Schema):
    applications = fields.Float()
    applications_low = fields.Float()
    applications_high = fields.Float()
    cpa = fields.Float(allow_none=True)
    cpa_low = fields.Float(allow_none=True)
    cpa_high = fields.Float(allow_none=True)
    model_version = fields.Int()


class ForecastModelSchema(Schema):
    version = fields.Int()
    status = fields.Str()
    metrics = fields.Dict()
    training_size = fields.Int()
    created_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)


class ForecastTrainingSchema(Schema):
    trained = fields.Bool()
    version = fields.Int()
    active = fields.Bool()
    campaigns = fields.Int()
    reason = fields.Str()
    coverage = fields.Float()
    mape_cpa = fields.Float()
    baseline_mape_cpa = fields.Float()
