"""/api/v1/tokens: API tokens (shown once, stored hashed, revocable)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import current_principal, requires
from adflux.catalogue import gettext as _
from adflux.schemas.auth import TokenCreatedSchema, TokenCreateSchema, TokenListArgsSchema, TokenPageSchema
from adflux.schemas.common import ApiErrorSchema
from adflux.services import auth as auth_service
from adflux.services.errors import ValidationFailed

URL_PREFIX = "/tokens"
blp = Blueprint("tokens", __name__, description="API tokens; everyone manages their own, admins all")


@blp.route("")
class TokenList(MethodView):
    @requires("viewer")
    @blp.arguments(TokenListArgsSchema(), location="query")
    @blp.response(200, TokenPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the caller's tokens (admins: everyone's, or one user's), masked."""
        return auth_service.list_tokens(actor=current_principal(), **args).as_dict()

    @requires("viewer")
    @blp.arguments(TokenCreateSchema())
    @blp.response(201, TokenCreatedSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="Only admins create tokens for others")
    @blp.alt_response(404, schema=ApiErrorSchema, description="Unknown user")
    @blp.alt_response(409, schema=ApiErrorSchema, description="The user is deactivated")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a token; the full token is in this response only."""
        actor = current_principal()
        user_id = data.get("user_id") or actor.id
        if user_id is None:  # the local CLI is nobody: it must say whose token it wants
            raise ValidationFailed(_("Say whose token this is"), errors={"user_id": ["Required here."]})
        return auth_service.issue_token(
            user_id=user_id, name=data["name"], expires_in_days=data["expires_in_days"], actor=actor
        )


@blp.route("/<int:token_id>")
class TokenDetail(MethodView):
    @requires("viewer")
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def delete(self, token_id: int) -> None:
        """Revoke a token at once (your own; admins: anyone's)."""
        auth_service.revoke_token(token_id=token_id, actor=current_principal())
