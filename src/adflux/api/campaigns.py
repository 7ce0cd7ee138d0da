"""/api/v1/campaigns: create, preview, publish and manage campaigns."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.response_cache import cached_read
from adflux.api.tasks import accepted
from adflux.extensions import db
from adflux.schemas.campaign_changes import CampaignChangeResultSchema, CampaignChangeSchema
from adflux.schemas.campaigns import (
    CampaignCreateSchema,
    CampaignListArgsSchema,
    CampaignOwnerSchema,
    CampaignPageSchema,
    CampaignSchema,
    PreviewSchema,
)
from adflux.schemas.common import ApiErrorSchema, TaskAcceptedSchema
from adflux.services import campaigns as campaigns_service
from adflux.services.autocommit_reads import reads_only
from adflux.services.campaigns import changes, owners, segment_changes

URL_PREFIX = "/campaigns"
# The tokens of every table a campaign list answer is read from (services/campaigns/listing.py):
# "campaigns" covers campaigns, platform campaigns, ad groups and campaign totals (models/versions.py).
LISTED_TABLES = ("campaigns", "job_openings")


def current_actor() -> str:
    user = g.get("current_user")
    return str(getattr(user, "email", None) or "api")


blp = Blueprint("campaigns", __name__, description="Advertising campaigns")


@blp.route("")
class CampaignList(MethodView):
    @requires("viewer")
    @blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
    @cached_read(*LISTED_TABLES)
    @blp.arguments(CampaignListArgsSchema(), location="query")
    @blp.response(200, CampaignPageSchema)
    @reads_only
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List campaigns (filters: status, job_id), newest first.

        Answers carry an ETag; send it back in If-None-Match to get a 304 while no campaign,
        platform campaign, ad group, result total or job opening has changed.
        """
        return campaigns_service.list_campaigns(**args).as_dict()

    @requires("manager")
    @blp.arguments(CampaignCreateSchema())
    @blp.response(201, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="Unknown job")
    @blp.alt_response(409, schema=ApiErrorSchema, description="The job is closed")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft campaign for a job on the chosen platforms and segments."""
        return campaigns_service.create_campaign(**data)


@blp.route("/<int:campaign_id>")
class CampaignDetail(MethodView):
    @requires("viewer")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> Any:
        """Get a campaign with each platform's status, external ids, attempts and last error."""
        return campaigns_service.get_campaign(campaign_id=campaign_id)

    @requires("manager")
    @blp.arguments(CampaignChangeSchema())
    @blp.response(200, CampaignChangeResultSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Completed or archived")
    @blp.alt_response(422, schema=ApiErrorSchema, description="Below what was spent, a past end date...")
    def patch(self, data: dict[str, Any], campaign_id: int) -> Any:
        """Change a campaign's budget, daily budget, end date, CPA target, platform weights or segments.

        The new values are recorded at once and sent in place to every platform it is live on;
        each platform campaign's update_status says pending, applied or failed.
        """
        add, remove = data.pop("add_segment_ids", []), data.pop("remove_segment_ids", [])
        results = []
        if data:
            results.append(changes.change_campaign(db.session, campaign_id, actor=current_actor(), **data))
        if add or remove:
            results.append(
                segment_changes.change_segments(
                    db.session, campaign_id, actor=current_actor(), add=add, remove=remove
                )
            )
        changed: dict[str, Any] = {}
        queued: dict[str, int] = {}
        for result in results:
            changed.update(result.changed)
            queued.update(result.queued)  # the later revision per platform
        return {"campaign_id": campaign_id, "changed": changed, "queued": queued, "unchanged": not changed}


@blp.route("/<int:campaign_id>/preview")
class CampaignPreview(MethodView):
    @requires("viewer")
    @blp.response(200, PreviewSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, campaign_id: int) -> dict[str, Any]:
        """Creatives, platform budgets and the compliance report, before publishing."""
        return campaigns_service.preview_campaign(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/publish")
class CampaignPublish(MethodView):
    @requires("manager")
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Not a draft")
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, campaign_id: int) -> Any:
        """Publish a draft in the background (one task per platform); poll the task for progress."""
        return accepted(campaigns_service.publish_campaign(campaign_id=campaign_id))


@blp.route("/<int:campaign_id>/retry-failed")
class CampaignRetry(MethodView):
    @requires("manager")
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Nothing failed")
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, campaign_id: int) -> Any:
        """Republish only the platforms that failed."""
        return accepted(campaigns_service.retry_failed(campaign_id=campaign_id))


@blp.route("/<int:campaign_id>/owner")
class CampaignOwner(MethodView):
    @requires("manager")
    @blp.arguments(CampaignOwnerSchema())
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="Unknown campaign or user")
    @blp.alt_response(422, schema=ApiErrorSchema, description="Not an active manager or admin")
    def put(self, data: dict[str, Any], campaign_id: int) -> Any:
        """Give the campaign to another owner (told when it fails, pauses, spends out or its job closes)."""
        return owners.set_owner(campaign_id=campaign_id, owner=data["owner"])


@blp.route("/<int:campaign_id>/pause")
class CampaignPause(MethodView):
    @requires("manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Not live")
    def post(self, campaign_id: int) -> Any:
        """Pause delivery on every live platform."""
        return campaigns_service.pause_campaign(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/resume")
class CampaignResume(MethodView):
    @requires("manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Not paused")
    def post(self, campaign_id: int) -> Any:
        """Resume delivery of a paused campaign."""
        return campaigns_service.resume_campaign(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/complete")
class CampaignComplete(MethodView):
    @requires("manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Not live or paused")
    def post(self, campaign_id: int) -> Any:
        """End the flight: stop delivery and mark the campaign completed."""
        return campaigns_service.complete_campaign(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/retry-action")
class CampaignRetryAction(MethodView):
    @requires("manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="No action is pending")
    @blp.alt_response(503, schema=ApiErrorSchema, description="No platform answered")
    def post(self, campaign_id: int) -> Any:
        """Finish a pause, resume, complete or archive that reached only some platforms."""
        return campaigns_service.retry_action(campaign_id=campaign_id)


@blp.route("/<int:campaign_id>/archive")
class CampaignArchive(MethodView):
    @requires("manager")
    @blp.response(200, CampaignSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Already archived or publishing")
    def post(self, campaign_id: int) -> Any:
        """Archive the campaign at the platforms and in AdFlux (final)."""
        return campaigns_service.archive_campaign(campaign_id=campaign_id)
