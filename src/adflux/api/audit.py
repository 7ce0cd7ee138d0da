"""/api/v1/audit-events: who changed what, when, with the state before and after."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.audit import AuditEventListArgsSchema, AuditEventPageSchema
from adflux.services import audit as audit_service

URL_PREFIX = "/audit-events"
blp = Blueprint("audit", __name__, description="The audit trail of every change")


@blp.route("")
class AuditEventList(MethodView):
    @requires("admin")
    @blp.arguments(AuditEventListArgsSchema(), location="query")
    @blp.response(200, AuditEventPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List audit events, newest first (filters: entity_type, entity_id, actor, action, since, until)."""
        return audit_service.list_events(**args).as_dict()
