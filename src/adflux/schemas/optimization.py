"""Rules, backtests, the decision log and pacing: what the API reads and writes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adflux.constants import (
    APPLICATIONS_SOURCES,
    PACING_MODES,
    RULE_ACTIONS,
    RULE_CPA_MODES,
    RULE_LEVELS,
    RULE_METRICS,
    RULE_OPERATORS,
    RULE_TEMPLATES,
)

_ID = validate.Range(min=1, max=2**31 - 1)


class ConditionSchema(Schema):
    metric = fields.Str(required=True, validate=validate.OneOf(RULE_METRICS))
    op = fields.Str(required=True, validate=validate.OneOf(RULE_OPERATORS))
    value = fields.Float(required=True, allow_nan=False)
    window = fields.Int(load_default=7, validate=validate.Range(min=1, max=90))


class ActionSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(RULE_ACTIONS))
    percent = fields.Float(allow_none=True, validate=validate.Range(min=-100, max=1000))
    amount = fields.Int(allow_none=True, validate=validate.Range(min=-(10**10), max=10**10))


class RuleSpecSchema(Schema):
    conditions = fields.List(fields.Nested(ConditionSchema), required=True, validate=validate.Length(1, 10))
    combine = fields.Str(load_default="all", validate=validate.OneOf(("all", "any")))
    action = fields.Nested(ActionSchema, required=True)
    cooldown_days = fields.Int(load_default=3, validate=validate.Range(min=1, max=90))
    max_change_per_day = fields.Float(load_default=0.5, validate=validate.Range(min=0.01, max=1))
    cpa_mode = fields.Str(load_default="lag_aware", validate=validate.OneOf(RULE_CPA_MODES))
    confidence = fields.Float(load_default=0.8, validate=validate.Range(min=0.5, max=0.99))
    applications_source = fields.Str(
        load_default="platform",
        dump_default="platform",
        validate=validate.OneOf(APPLICATIONS_SOURCES),
        metadata={"description": "Applications counted: platform-reported (default) or first_hand postbacks"},
    )


class RuleSchema(Schema):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    campaign_id = fields.Int(allow_none=True, validate=_ID)
    template = fields.Str(allow_none=True, validate=validate.OneOf(RULE_TEMPLATES))
    level = fields.Str(validate=validate.OneOf(RULE_LEVELS))
    spec = fields.Nested(RuleSpecSchema, allow_none=True)
    applications_source = fields.Str(
        load_only=True,
        validate=validate.OneOf(APPLICATIONS_SOURCES),
        metadata={"description": "Sets spec.applications_source (also for a template's rule)"},
    )
    enabled = fields.Bool(dump_only=True)
    created_by = fields.Str(dump_only=True, allow_none=True)
    last_evaluated_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class RuleSwitchSchema(Schema):
    enabled = fields.Bool(required=True)


class BacktestArgsSchema(Schema):
    campaign_id = fields.Int(required=True, validate=_ID)
    days = fields.Int(load_default=28, validate=validate.Range(min=1, max=90))


class ReplayedDecisionSchema(Schema):
    date = fields.Date()
    ad_group_id = fields.Int(allow_none=True)
    platform_campaign_id = fields.Int(allow_none=True)
    action = fields.Str()
    budget_before = fields.Int()
    budget_after = fields.Int()
    evidence = fields.Dict(keys=fields.Str(), values=fields.Float(allow_none=True))


class RulePreviewArgsSchema(Schema):
    campaign_id = fields.Int(required=True, validate=_ID)


class RulePreviewSchema(Schema):
    ad_group_id = fields.Int(allow_none=True)
    platform_campaign_id = fields.Int(allow_none=True)
    action = fields.Str()
    budget_before = fields.Int()
    budget_after = fields.Int()
    evidence = fields.Dict(keys=fields.Str(), values=fields.Float(allow_none=True))


class BacktestSchema(Schema):
    rule_id = fields.Int()
    campaign_id = fields.Int()
    days = fields.Int()
    spend = fields.Int(metadata={"description": "Spent over the replayed days, pesos"})
    applications = fields.Float(metadata={"description": "Matured applications of those days"})
    spend_saved = fields.Int(metadata={"description": "Negative: the rule would have spent more"})
    applications_lost = fields.Float(metadata={"description": "Negative: the rule would have gained"})
    cpa_before = fields.Float(allow_none=True)
    cpa_after = fields.Float(allow_none=True)
    decisions = fields.List(fields.Nested(ReplayedDecisionSchema))


class DecisionArgsSchema(Schema):
    campaign_id = fields.Int(validate=_ID)
    rule_id = fields.Int(validate=_ID)
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))


class DecisionSchema(Schema):
    id = fields.Int()
    rule_id = fields.Int(allow_none=True)
    source = fields.Str()
    campaign_id = fields.Int()
    platform_campaign_id = fields.Int(allow_none=True)
    ad_group_id = fields.Int(allow_none=True)
    decided_at = fields.DateTime()
    action = fields.Str()
    status = fields.Str()
    budget_before = fields.Int(allow_none=True)
    budget_after = fields.Int(allow_none=True)
    evidence = fields.Dict()
    message = fields.Str(allow_none=True)


class PacingSchema(Schema):
    campaign_id = fields.Int()
    enabled = fields.Bool()
    mode = fields.Str()
    monthly_cap = fields.Int(allow_none=True)
    budget_total = fields.Int()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    daily_budget = fields.Int(metadata={"description": "What pacing sets today across the platforms"})
    planned_to_date = fields.Int()
    spent = fields.Int()
    remaining = fields.Int()
    days_left = fields.Int()
    pace = fields.Float(metadata={"description": "Spent over planned so far (1 = on plan)"})
    delivery_ratio = fields.Float()
    warnings = fields.List(fields.Str())


class PacingConfigSchema(Schema):
    mode = fields.Str(load_default="even", validate=validate.OneOf(PACING_MODES))
    enabled = fields.Bool(load_default=True)
    monthly_cap = fields.Int(allow_none=True, validate=validate.Range(min=1, max=10**12))
