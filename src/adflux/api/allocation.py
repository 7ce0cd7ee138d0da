"""/api/v1/allocation: budget allocation per campaign, its moves and the off-policy comparison;
/api/v1/forecasts: applications and CPA for a planned campaign."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.allocation import (
    AllocationEntrySchema,
    AllocationRunSchema,
    AllocationSettingsSchema,
    ComparisonSchema,
    ForecastModelSchema,
    ForecastRequestSchema,
    ForecastSchema,
    ForecastTrainingSchema,
)
from adflux.schemas.common import ApiErrorSchema
from adflux.services.allocation import comparison, daily, settings

URL_PREFIX = "/allocation"
blp = Blueprint("allocation", __name__, description="Budget allocation between a campaign's ad groups")
forecast_blp = Blueprint("forecasts", __name__, description="Forecasts for a planned campaign")


@blp.route("/<int:campaign_id>")
class CampaignAllocation(MethodView):
    @requires("viewer")
    @blp.response(200, AllocationSettingsSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> Any:
        """Whether the allocator moves this campaign's budget, and its limits."""
        return settings.get_settings(campaign_id=campaign_id)

    @requires("manager")
    @blp.arguments(AllocationSettingsSchema())
    @blp.response(200, AllocationSettingsSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def put(self, data: dict[str, Any], campaign_id: int) -> Any:
        """Switch the allocator on or off and set its limits (audited)."""
        return settings.configure(campaign_id=campaign_id, **data)


@blp.route("/<int:campaign_id>/moves")
class AllocationMoves(MethodView):
    @requires("viewer")
    @blp.response(200, AllocationEntrySchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> Any:
        """The allocation log, newest day first: every ad group's budget, level and propensity."""
        return daily.log(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/run")
class AllocationRun(MethodView):
    @requires("manager")
    @blp.response(200, AllocationRunSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def post(self, campaign_id: int) -> Any:
        """Allocate today now (once a day: a second run the same day returns the day's log)."""
        return daily.allocate_campaign(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/comparison")
class PolicyComparison(MethodView):
    @requires("viewer")
    @blp.response(200, ComparisonSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> Any:
        """Off-policy estimates (IPS, doubly robust, 95 % interval) of other splits on the allocated days."""
        return comparison.compare_policies(campaign_id=campaign_id)


@forecast_blp.route("")
class Forecast(MethodView):
    @requires("manager")
    @forecast_blp.arguments(ForecastRequestSchema())
    @forecast_blp.response(200, ForecastSchema)
    @forecast_blp.alt_response(409, schema=ApiErrorSchema, description="No forecast model trained yet")
    def post(self, data: dict[str, Any]) -> Any:
        """Applications and CPA with an 80 % interval for a planned campaign."""
        from adflux.services import forecasts

        return forecasts.forecast(**data)


@forecast_blp.route("/models")
class ForecastModels(MethodView):
    @requires("viewer")
    @forecast_blp.response(200, ForecastModelSchema(many=True))
    def get(self) -> Any:
        """Every forecast version, newest first, with its figures on held-out campaigns."""
        from adflux.services import forecasts

        return forecasts.versions()

    @requires("admin")
    @forecast_blp.response(200, ForecastTrainingSchema)
    def post(self) -> Any:
        """Train a new version on the portal's finished campaigns (active if no worse than the active one)."""
        from adflux.services import forecasts

        return forecasts.retrain()
