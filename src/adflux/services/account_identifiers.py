"""Each platform's account identifiers: what a real account needs beside its token, and their shapes.

The account id itself is `external_account_id`; the others live in `PlatformAccount.identifiers`
(not secrets) and reach the adapters as `AccountConfig.extra`. Secrets stay in the encrypted
credentials; this module only names which credential keys each platform needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from adflux.services.errors import ValidationFailed

DIGITS = r"\d{5,20}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Identifier:
    """One identifier: its key, its label for people, the shape it must have, whether publishing needs it."""

    key: str
    label: Any  # a lazy translated string
    pattern: str
    shape: Any  # how the shape reads to people (lazy)
    required: bool = False
    normalise: Callable[[str], str] = str.strip


def _dashless(value: str) -> str:
    return value.strip().replace("-", "")


def _meta_account(value: str) -> str:
    value = value.strip()
    return f"act_{value}" if value.isdigit() else value


def _lower(value: str) -> str:
    return value.strip().lower()


_ACTION_NAME = re.compile(r"customers/(\d{10}|\d{3}-\d{3}-\d{4})/conversionActions/(\d{1,20})")


def _conversion_action(value: str) -> str:
    """A Google conversion action's id, also from its resource name (the uploader rebuilds that
    with the account's customer id)."""
    value = value.strip()
    named = _ACTION_NAME.fullmatch(value)
    return named.group(2) if named else value


_NUMBER = _l("digits only (5 to 20)")
_UUID_SHAPE = _l("a UUID such as 8b1a4c4e-6a3f-4d5e-9b1f-0a2b3c4d5e6f")

# The account id (external_account_id) of each platform.
ACCOUNT_IDS: dict[str, Identifier] = {
    "meta": Identifier(
        "external_account_id",
        _l("Ad account id"),
        rf"act_{DIGITS}",
        _l("act_ followed by digits"),
        required=True,
        normalise=_meta_account,
    ),
    "google": Identifier(
        "external_account_id",
        _l("Customer id"),
        r"\d{10}",
        _l("10 digits (dashes allowed)"),
        required=True,
        normalise=_dashless,
    ),
    "tiktok": Identifier(
        "external_account_id", _l("Advertiser id"), r"\d{10,20}", _l("digits only (10 to 20)"), required=True
    ),
    "snapchat": Identifier(
        "external_account_id", _l("Ad account id"), UUID, _UUID_SHAPE, required=True, normalise=_lower
    ),
    "x": Identifier(
        "external_account_id",
        _l("Ads account id"),
        r"[a-z0-9]{5,20}",
        _l("lowercase letters and digits"),
        required=True,
        normalise=_lower,
    ),
}

IDENTIFIERS: dict[str, tuple[Identifier, ...]] = {
    "meta": (
        Identifier("page_id", _l("Facebook page id"), DIGITS, _NUMBER, required=True),
        Identifier("pixel_id", _l("Pixel id (leads objective and conversions)"), DIGITS, _NUMBER),
        Identifier("instagram_actor_id", _l("Instagram account id"), DIGITS, _NUMBER),
    ),
    "google": (
        Identifier(
            "login_customer_id",
            _l("Manager account id (login-customer-id)"),
            r"\d{10}",
            _l("10 digits (dashes allowed)"),
            normalise=_dashless,
        ),
        Identifier(
            "conversion_action_id",
            _l("Conversion action id (for conversions)"),
            r"\d{1,20}",
            _l("its digits, or customers/<customer id>/conversionActions/<id>"),
            normalise=_conversion_action,
        ),
    ),
    "tiktok": (
        Identifier(
            "identity_id",
            _l("Identity id"),
            r"[A-Za-z0-9_-]{1,64}",
            _l("letters, digits, - or _"),
            required=True,
        ),
        Identifier(
            "identity_type",
            _l("Identity type"),
            r"CUSTOMIZED_USER|AUTH_CODE|TT_USER|BC_AUTH_TT",
            _l("CUSTOMIZED_USER, AUTH_CODE, TT_USER or BC_AUTH_TT"),
            normalise=lambda v: v.strip().upper(),
        ),
        Identifier("display_name", _l("Name shown on the ads"), r".{1,40}", _l("1 to 40 characters")),
        Identifier(
            "pixel_code",
            _l("Pixel code (for conversions)"),
            r"[A-Z0-9]{10,32}",
            _l("capital letters and digits (10 to 32)"),
            normalise=lambda v: v.strip().upper(),
        ),
    ),
    "snapchat": (
        Identifier(
            "organization_id", _l("Organization id"), UUID, _UUID_SHAPE, required=True, normalise=_lower
        ),
        Identifier("public_profile_id", _l("Public profile id"), UUID, _UUID_SHAPE, normalise=_lower),
        Identifier("brand_name", _l("Brand name shown on the ads"), r".{1,25}", _l("1 to 25 characters")),
        Identifier("pixel_id", _l("Pixel id (for conversions)"), UUID, _UUID_SHAPE, normalise=_lower),
    ),
    "x": (
        Identifier(
            "funding_instrument_id",
            _l("Funding instrument id"),
            r"[a-z0-9]{1,20}",
            _l("lowercase letters and digits"),
            normalise=_lower,
        ),
        Identifier(
            "as_user_id",
            _l("User id the posts are published as"),
            r"\d{1,20}",
            _l("digits only"),
            required=True,
        ),
        Identifier(
            "pixel_id",
            _l("Pixel id (for conversions)"),
            r"[a-z0-9]{4,12}",
            _l("lowercase letters and digits (4 to 12)"),
            normalise=_lower,
        ),
        Identifier(
            "event_tag_id",
            _l("Conversion event tag id (for conversions)"),
            r"tw-[a-z0-9]{4,12}-[a-z0-9]{4,12}",
            _l("tw-<pixel id>-<event id>, such as tw-o8z6j-o8z2x"),
            normalise=_lower,
        ),
    ),
}

# Credential keys each platform needs; a tuple inside is "any one of these".
CREDENTIALS: dict[str, tuple[tuple[str, ...], ...]] = {
    "meta": (("access_token",),),
    "google": (("developer_token",), ("access_token", "refresh_token")),
    "tiktok": (("access_token",),),
    "snapchat": (("access_token", "refresh_token"),),
    "x": (("consumer_key",), ("consumer_secret",), ("access_token",), ("access_token_secret",)),
}


def known(platform: str) -> dict[str, Identifier]:
    """The identifiers `platform` accounts may carry, by key."""
    return {item.key: item for item in IDENTIFIERS.get(platform, ())}


def clean_account_id(platform: str, value: str) -> str:
    """The account id in its platform's shape (digits get Meta's act_, dashes leave Google's)."""
    spec = ACCOUNT_IDS[platform]
    cleaned = spec.normalise(value)
    if not re.fullmatch(spec.pattern, cleaned):
        raise ValidationFailed(
            _("%(value)s is not a valid %(platform)s account id", value=value, platform=_platform(platform)),
            errors={"external_account_id": [_("%(label)s: %(shape)s.", label=spec.label, shape=spec.shape)]},
        )
    return cleaned


def clean_identifiers(platform: str, values: dict[str, Any] | None) -> dict[str, str]:
    """`values` checked for `platform`: unknown keys and bad shapes refused, blank values dropped."""
    specs = known(platform)
    cleaned: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for key, raw in (values or {}).items():
        spec = specs.get(key)
        if spec is None:
            names = ", ".join(specs) or _("none")
            problems[key] = [
                _(
                    "%(platform)s accounts have no such identifier (known: %(names)s).",
                    platform=_platform(platform),
                    names=names,
                )
            ]
            continue
        value = spec.normalise(str(raw if raw is not None else ""))
        if not value:
            continue
        if not re.fullmatch(spec.pattern, value):
            problems[key] = [_("%(label)s: %(shape)s.", label=spec.label, shape=spec.shape)]
            continue
        cleaned[key] = value
    tag, pixel = cleaned.get("event_tag_id"), cleaned.get("pixel_id")
    if platform == "x" and tag and pixel and not tag.startswith(f"tw-{pixel}-"):
        problems["event_tag_id"] = [_("The event tag must be the pixel's (tw-%(pixel)s-…).", pixel=pixel)]
    if problems:
        raise ValidationFailed(
            _("Some %(platform)s identifiers are not valid", platform=_platform(platform)),
            errors={"identifiers": problems},
        )
    return cleaned


def missing(platform: str, identifiers: dict[str, Any] | None, credential_keys: set[str]) -> list[str]:
    """What publishing on `platform` still needs: identifier labels and credential names."""
    present = identifiers or {}
    specs = IDENTIFIERS.get(platform, ())
    lacking = [str(spec.label) for spec in specs if spec.required and not present.get(spec.key)]
    for choices in CREDENTIALS.get(platform, ()):
        if not credential_keys & set(choices):
            lacking.append(_("credential %(names)s", names=_(" or ").join(choices)))
    return lacking


def _platform(platform: str) -> str:
    from adflux.constants import PLATFORM_LABELS

    return str(PLATFORM_LABELS.get(platform, platform))
