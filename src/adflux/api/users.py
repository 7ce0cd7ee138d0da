"""/api/v1/users and /api/v1/me: people who use AdFlux and their roles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import current_principal, requires
from adflux.schemas.auth import (
    MeSchema,
    UserCreateSchema,
    UserListArgsSchema,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)
from adflux.schemas.common import ApiErrorSchema
from adflux.services import auth as auth_service

URL_PREFIX = ""
blp = Blueprint("users", __name__, description="Users, roles and the caller's identity")


@blp.route("/users")
class UserList(MethodView):
    @requires("admin")
    @blp.arguments(UserListArgsSchema(), location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List users (filters: role, active, email)."""
        return auth_service.list_users(**args).as_dict()

    @requires("admin")
    @blp.arguments(UserCreateSchema())
    @blp.response(201, UserSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The e-mail is already used")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user with a role (and optionally a password for the dashboard)."""
        return auth_service.create_user(**data)


@blp.route("/users/<int:user_id>")
class UserDetail(MethodView):
    @requires("admin")
    @blp.response(200, UserSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, user_id: int) -> Any:
        """Get one user."""
        return auth_service.get_user(user_id=user_id)

    @requires("admin")
    @blp.arguments(UserUpdateSchema())
    @blp.response(200, UserSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Would leave no active admin")
    def patch(self, changes: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, role, password, or deactivate them (active=false)."""
        return auth_service.update_user(user_id=user_id, changes=changes, actor=current_principal())


@blp.route("/me")
class Me(MethodView):
    @requires("viewer")
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """Who the caller is and with which role."""
        return current_principal()
