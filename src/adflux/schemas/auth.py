"""Users, API tokens and the caller's identity."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from adflux.constants import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, MIN_PASSWORD_LENGTH, ROLES
from adflux.schemas.common import PageArgsSchema, page_schema

_PASSWORD = validate.Length(min=MIN_PASSWORD_LENGTH, max=256)


class UserSchema(Schema):
    id = fields.Int(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.Str(load_default="", validate=validate.Length(max=120))
    role = fields.Str(load_default="viewer", validate=validate.OneOf(ROLES))
    active = fields.Bool(dump_only=True)
    has_password = fields.Method("_has_password", dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)

    def _has_password(self, user: Any) -> bool:
        return bool(user.password_hash)


class UserCreateSchema(UserSchema):
    # Write-only: never part of any response.
    password = fields.Str(load_only=True, load_default=None, allow_none=True, validate=_PASSWORD)


class UserUpdateSchema(Schema):
    name = fields.Str(validate=validate.Length(max=120))
    role = fields.Str(validate=validate.OneOf(ROLES))
    active = fields.Bool()
    password = fields.Str(load_only=True, validate=_PASSWORD)


class UserListArgsSchema(PageArgsSchema):
    role = fields.Str(validate=validate.OneOf(ROLES))
    active = fields.Bool()
    email = fields.Str(validate=validate.Length(max=254))


UserPageSchema = page_schema(UserSchema, "UserPage")


class TokenSchema(Schema):
    id = fields.Int(dump_only=True)
    name = fields.Str(dump_only=True)
    user_id = fields.Int(dump_only=True)
    masked = fields.Str(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    expires_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    last_used_at = fields.DateTime(dump_only=True, allow_none=True)


class TokenCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    expires_in_days = fields.Int(
        load_default=DEFAULT_TOKEN_DAYS, validate=validate.Range(min=1, max=MAX_TOKEN_DAYS)
    )
    user_id = fields.Int(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Whose token (admins only); default: the caller."},
    )


class TokenCreatedSchema(Schema):
    """A new token (an IssuedToken): the only response that carries the full token."""

    id = fields.Int(attribute="token.id")
    name = fields.Str(attribute="token.name")
    user_id = fields.Int(attribute="token.user_id")
    masked = fields.Str(attribute="token.masked")
    created_at = fields.DateTime(attribute="token.created_at")
    expires_at = fields.DateTime(attribute="token.expires_at", allow_none=True)
    token = fields.Str(
        attribute="secret",
        metadata={"description": "The full token. Shown only in this response; store it now."},
    )


class TokenListArgsSchema(PageArgsSchema):
    user_id = fields.Int(validate=validate.Range(min=1, max=2**31 - 1))
    include_revoked = fields.Bool(load_default=False)


TokenPageSchema = page_schema(TokenSchema, "TokenPage")


class MeSchema(Schema):
    id = fields.Int(allow_none=True)
    email = fields.Str(required=True)
    name = fields.Str()
    role = fields.Str(required=True)
    auth = fields.Str(required=True, metadata={"description": "token, session or local"})
    token_id = fields.Int(allow_none=True)
