"""Platform account schemas: credentials are write-only and come back masked."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from adflux.constants import PLATFORMS
from adflux.schemas.common import PageArgsSchema, page_schema

# Keys like access_token, developer_token, consumer_secret; values are opaque strings.
_CREDENTIALS = fields.Dict(
    keys=fields.Str(validate=validate.Regexp(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")),
    values=fields.Str(validate=validate.Length(max=4096)),
    validate=validate.Length(max=30),
    load_only=True,
    metadata={"description": "Write-only. Replaces the stored credentials as a whole; shown masked."},
)


class PlatformAccountSchema(Schema):
    id = fields.Int(dump_only=True)
    platform = fields.Str(required=True, validate=validate.OneOf(PLATFORMS))
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    external_account_id = fields.Str(
        required=True, validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[A-Za-z0-9_.:-]+$")]
    )
    base_url = fields.Url(
        allow_none=True, load_default=None, schemes={"http", "https"}, validate=validate.Length(max=300)
    )
    api_version = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=20))
    credentials = _CREDENTIALS
    identifiers = fields.Dict(
        keys=fields.Str(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$")),
        values=fields.Str(allow_none=True, validate=validate.Length(max=120)),
        validate=validate.Length(max=12),
        load_default=None,
        metadata={
            "description": "The platform's other ids (not secrets): Meta page_id, pixel_id, "
            "instagram_actor_id; Google login_customer_id, conversion_action_id; TikTok identity_id, "
            "identity_type, display_name, pixel_code; Snapchat organization_id, public_profile_id, "
            "brand_name, pixel_id; X funding_instrument_id, as_user_id, pixel_id, event_tag_id. The "
            "conversion ids are what uploading conversions needs. On update, given keys replace, an "
            "empty value removes."
        },
    )
    credentials_masked = fields.Dict(dump_only=True)
    credentials_status = fields.Str(
        dump_only=True, metadata={"description": "none, set or unreadable (wrong key)"}
    )
    token_expires_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=None)
    rate_limit_per_second = fields.Float(
        allow_none=True, load_default=None, validate=validate.Range(min=0.01, max=10_000)
    )
    is_sandbox = fields.Bool(load_default=True)
    active = fields.Bool(load_default=True)
    priority = fields.Int(load_default=0, validate=validate.Range(min=-1000, max=1000))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PlatformAccountUpdateSchema(PlatformAccountSchema):
    """Partial update (use with partial=True)."""


class PlatformAccountListArgsSchema(PageArgsSchema):
    platform = fields.Str(validate=validate.OneOf(PLATFORMS))
    active = fields.Bool()


PlatformAccountPageSchema = page_schema(PlatformAccountSchema, "PlatformAccountPage")


class ConnectionResultSchema(Schema):
    """What a test connection found: facts, problems and warnings in words, a one-line summary."""

    account_id = fields.Int()
    platform = fields.Str()
    ok = fields.Bool(metadata={"description": "Reachable, credentials taken, account active, all set"})
    reachable = fields.Bool()
    auth_ok = fields.Bool(allow_none=True)
    account_found = fields.Bool(allow_none=True)
    name = fields.Str(allow_none=True)
    status = fields.Str(
        allow_none=True, metadata={"description": "active, pending, disabled, closed or unknown"}
    )
    status_label = fields.Str(allow_none=True)
    raw_status = fields.Str(allow_none=True, metadata={"description": "The platform's own status value"})
    currency = fields.Str(allow_none=True)
    timezone = fields.Str(allow_none=True)
    missing = fields.List(fields.Str())
    problems = fields.List(fields.Str())
    warnings = fields.List(fields.Str())
    summary = fields.Str()
    latency_ms = fields.Float(allow_none=True)
