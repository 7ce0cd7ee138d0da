"""/api/v1/playbooks: campaign policies, their dry run, and /api/v1/approvals."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.tasks import accepted
from adflux.schemas.automation import (
    ApprovalPageSchema,
    DryRunArgsSchema,
    DryRunSchema,
    PlaybookSchema,
    PlaybookUpdateSchema,
    RejectSchema,
)
from adflux.schemas.campaigns import CampaignSchema
from adflux.schemas.common import ApiErrorSchema, PageArgsSchema, TaskAcceptedSchema
from adflux.services import approvals
from adflux.services.playbooks import planning, registry

URL_PREFIX = "/playbooks"
blp = Blueprint("playbooks", __name__, description="Playbooks: which openings get which campaigns")
approvals_blp = Blueprint("approvals", __name__, description="Campaigns awaiting a manager's approval")


@blp.route("")
class PlaybookList(MethodView):
    @requires("viewer")
    @blp.response(200, PlaybookSchema(many=True))
    def get(self) -> Any:
        """Playbooks in the order they are tried (the first that matches an opening wins)."""
        return registry.list_playbooks()

    @requires("manager")
    @blp.arguments(PlaybookSchema())
    @blp.response(201, PlaybookSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The name is taken")
    def post(self, data: dict[str, Any]) -> Any:
        """Save a playbook; unknown condition fields and budget formulas that fail are refused."""
        return registry.create_playbook(data=data)


@blp.route("/dry-run")
class PlaybookDryRun(MethodView):
    @requires("viewer")
    @blp.arguments(DryRunArgsSchema(), location="query")
    @blp.response(200, DryRunSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Which open openings each playbook would take, and what it would spend (nothing is created)."""
        return planning.dry_run(**args)


@blp.route("/<int:playbook_id>")
class PlaybookDetail(MethodView):
    @requires("viewer")
    @blp.response(200, PlaybookSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, playbook_id: int) -> Any:
        """One playbook."""
        return registry.get_playbook(playbook_id=playbook_id)

    @requires("manager")
    @blp.arguments(PlaybookUpdateSchema(partial=True))
    @blp.response(200, PlaybookSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def patch(self, changes: dict[str, Any], playbook_id: int) -> Any:
        """Change a playbook (enable or disable it with {"enabled": ...})."""
        return registry.update_playbook(playbook_id=playbook_id, changes=changes)

    @requires("manager")
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def delete(self, playbook_id: int) -> None:
        """Delete a playbook; its campaigns stay."""
        registry.delete_playbook(playbook_id=playbook_id)


@approvals_blp.route("")
class ApprovalList(MethodView):
    @requires("viewer")
    @approvals_blp.arguments(PageArgsSchema(), location="query")
    @approvals_blp.response(200, ApprovalPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Campaigns a playbook made that wait for approval, oldest first."""
        return approvals.list_pending(**args).as_dict()


@approvals_blp.route("/<int:campaign_id>/approve")
class ApprovalApprove(MethodView):
    @requires("manager")
    @approvals_blp.response(202, TaskAcceptedSchema)
    @approvals_blp.alt_response(404, schema=ApiErrorSchema)
    @approvals_blp.alt_response(409, schema=ApiErrorSchema, description="Not awaiting approval")
    def post(self, campaign_id: int) -> Any:
        """Approve and publish (in the background; poll the task)."""
        return accepted(approvals.approve(campaign_id=campaign_id))


@approvals_blp.route("/<int:campaign_id>/reject")
class ApprovalReject(MethodView):
    @requires("manager")
    @approvals_blp.arguments(RejectSchema())
    @approvals_blp.response(200, CampaignSchema)
    @approvals_blp.alt_response(404, schema=ApiErrorSchema)
    @approvals_blp.alt_response(409, schema=ApiErrorSchema, description="Not awaiting approval")
    def post(self, data: dict[str, Any], campaign_id: int) -> Any:
        """Reject with a reason: the draft is archived and never published."""
        return approvals.reject(campaign_id=campaign_id, reason=data["reason"])
