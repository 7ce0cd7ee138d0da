"""/api/v1/rules: automated actions, their backtest and decision log; /api/v1/pacing: campaign pacing."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.common import ApiErrorSchema
from adflux.schemas.optimization import (
    BacktestArgsSchema,
    BacktestSchema,
    DecisionArgsSchema,
    DecisionSchema,
    PacingConfigSchema,
    PacingSchema,
    RulePreviewArgsSchema,
    RulePreviewSchema,
    RuleSchema,
    RuleSwitchSchema,
)
from adflux.services.rules import evaluation, pacing, store

URL_PREFIX = "/rules"
blp = Blueprint("rules", __name__, description="Rules: automated actions on the numbers, lag-aware")
pacing_blp = Blueprint("pacing", __name__, description="Pacing: landing a campaign on its total budget")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@blp.route("")
class RuleList(MethodView):
    @requires("viewer")
    @blp.response(200, RuleSchema(many=True))
    def get(self) -> Any:
        """Every rule (enabled or not)."""
        return store.list_rules()

    @requires("manager")
    @blp.arguments(RuleSchema())
    @blp.response(201, RuleSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="No such campaign")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a rule from a template (sized from the campaign's target CPA) or a spec; it starts disabled."""
        return store.add_rule(**data)


@blp.route("/decisions")
class DecisionList(MethodView):
    @requires("viewer")
    @blp.arguments(DecisionArgsSchema(), location="query")
    @blp.response(200, DecisionSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The decision log of rules and pacing, newest first, with the numbers behind each."""
        return evaluation.decisions_of(**args)


@blp.route("/<int:rule_id>")
class RuleDetail(MethodView):
    @requires("viewer")
    @blp.response(200, RuleSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, rule_id: int) -> Any:
        """One rule."""
        return store.get_rule(rule_id)

    @requires("manager")
    @blp.arguments(RuleSwitchSchema())
    @blp.response(200, RuleSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def patch(self, data: dict[str, Any], rule_id: int) -> Any:
        """Enable or disable a rule."""
        return store.set_enabled(rule_id=rule_id, enabled=data["enabled"])


@blp.route("/<int:rule_id>/backtest")
class RuleBacktest(MethodView):
    @requires("viewer")
    @blp.arguments(BacktestArgsSchema(), location="query")
    @blp.response(200, BacktestSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], rule_id: int) -> dict[str, Any]:
        """Replay the rule on a campaign's last N days, applications matured as the lag says."""
        run = store.backtest_rule(rule_id=rule_id, **args)
        result = run.result
        return {
            "rule_id": rule_id,
            "campaign_id": run.campaign_id,
            "days": run.days,
            "spend": round(result.spend),
            "applications": round(result.applications, 2),
            "spend_saved": round(result.spend_saved),
            "applications_lost": round(result.applications_lost, 2),
            "cpa_before": _finite(result.cpa_before),
            "cpa_after": _finite(result.cpa_after),
            "decisions": [
                {
                    "date": run.first_day + timedelta(days=d.day),
                    **run.entity_ids[d.entity],
                    "action": d.kind,
                    "budget_before": d.budget_before,
                    "budget_after": d.budget_after,
                    "evidence": {k: _finite(v) for k, v in d.evidence.items()},
                }
                for d in result.decisions
            ],
        }


@blp.route("/<int:rule_id>/test")
class RuleTest(MethodView):
    @requires("viewer")
    @blp.arguments(RulePreviewArgsSchema(), location="query")
    @blp.response(200, RulePreviewSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], rule_id: int) -> Any:
        """What the rule would do on the campaign today, with the numbers behind it (nothing is done)."""
        return evaluation.preview(rule_id=rule_id, campaign_id=args["campaign_id"])


@pacing_blp.route("/<int:campaign_id>")
class CampaignPacing(MethodView):
    @requires("viewer")
    @pacing_blp.response(200, PacingSchema)
    @pacing_blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> dict[str, Any]:
        """Planned vs actual spend, today's daily budget and the warnings (cannot land, no end date)."""
        return _pacing(pacing.pacing_state(campaign_id=campaign_id))

    @requires("manager")
    @pacing_blp.arguments(PacingConfigSchema())
    @pacing_blp.response(200, PacingSchema)
    @pacing_blp.alt_response(404, schema=ApiErrorSchema)
    def put(self, data: dict[str, Any], campaign_id: int) -> dict[str, Any]:
        """Turn pacing on (even or front-loaded, a monthly cap without end date) or off."""
        return _pacing(pacing.configure_pacing(campaign_id=campaign_id, **data))


def _pacing(state: pacing.PacingState) -> dict[str, Any]:
    plan = state.plan
    return {
        "campaign_id": state.campaign_id,
        "enabled": state.enabled,
        "mode": state.mode,
        "monthly_cap": state.monthly_cap,
        "budget_total": state.budget_total,
        "start_date": state.start_date,
        "end_date": state.end_date,
        "daily_budget": plan.daily_budget,
        "planned_to_date": plan.planned_to_date,
        "spent": plan.spent,
        "remaining": plan.remaining,
        "days_left": plan.days_left,
        "pace": round(plan.pace, 4),
        "delivery_ratio": state.delivery_ratio,
        "warnings": list(plan.warnings),
    }
