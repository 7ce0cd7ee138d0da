"""/api/v1/platform-accounts: ad-platform accounts and their (write-only) credentials."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.accounts import (
    ConnectionResultSchema,
    PlatformAccountListArgsSchema,
    PlatformAccountPageSchema,
    PlatformAccountSchema,
    PlatformAccountUpdateSchema,
)
from adflux.schemas.common import ApiErrorSchema
from adflux.services import connection_check
from adflux.services import platform_accounts as accounts_service

URL_PREFIX = "/platform-accounts"
blp = Blueprint(
    "platform_accounts", __name__, description="Ad-platform accounts (credentials encrypted, shown masked)"
)


@blp.route("")
class AccountList(MethodView):
    @requires("admin")
    @blp.arguments(PlatformAccountListArgsSchema(), location="query")
    @blp.response(200, PlatformAccountPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List platform accounts (filters: platform, active)."""
        page = accounts_service.list_accounts(**args).as_dict()
        return {**page, "items": [accounts_service.shown(account) for account in page["items"]]}

    @requires("admin")
    @blp.arguments(PlatformAccountSchema())
    @blp.response(201, PlatformAccountSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The platform account id is already used")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a platform account with its credentials (encrypted at rest)."""
        return accounts_service.shown(accounts_service.create_account(data=data))


@blp.route("/<int:account_id>")
class AccountDetail(MethodView):
    @requires("admin")
    @blp.response(200, PlatformAccountSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, account_id: int) -> Any:
        """Get one platform account (credentials masked)."""
        return accounts_service.shown(accounts_service.get_account(account_id=account_id))

    @requires("admin")
    @blp.arguments(PlatformAccountUpdateSchema(partial=True))
    @blp.response(200, PlatformAccountSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The platform account id is already used")
    def patch(self, changes: dict[str, Any], account_id: int) -> Any:
        """Change an account; `credentials` replaces the stored set."""
        return accounts_service.shown(accounts_service.update_account(account_id=account_id, changes=changes))

    @requires("admin")
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Used by campaigns: deactivate instead")
    def delete(self, account_id: int) -> None:
        """Delete an account no campaign used."""
        accounts_service.delete_account(account_id=account_id)


@blp.route("/<int:account_id>/test")
class AccountTest(MethodView):
    @requires("admin")
    @blp.response(200, ConnectionResultSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def post(self, account_id: int) -> Any:
        """Test the connection: the platform's cheapest authenticated read of the account, in words.

        200 whatever the platform said (`ok` tells); the answer names what is wrong or missing.
        """
        return connection_check.check_connection(account_id=account_id).as_dict()
