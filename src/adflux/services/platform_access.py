"""Which account, credentials and base URL each platform adapter uses.

A platform account configured by an admin wins; without one, AdFlux uses a sandbox account:
the sandbox at ADFLUX_PLATFORM_BASE_URL, or, when that is unset (the embedded default), the
sandbox that adflux/embedded.py starts in this process on a free loopback port.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import SANDBOX_ACCOUNTS
from adflux.extensions import db
from adflux.models import PlatformAccount
from adflux.platforms.adapters import get_adapter
from adflux.platforms.base import PlatformAdapter
from adflux.platforms.transport import TransportConfig
from adflux.platforms.types import AccountConfig
from adflux.services import platform_accounts, rate_limits, secrets
from adflux.services.errors import ServiceUnavailable, ValidationFailed
from adflux.settings import Settings, current_settings, parse_rate_limits

logger = logging.getLogger(__name__)

# Where the embedded default registers how to reach its in-process sandbox (adflux/embedded.py).
EMBEDDED_SANDBOX_KEY = "adflux_embedded_sandbox"


def default_base_url() -> str:
    """Where adapters without a configured account send their calls."""
    configured = current_settings().platform_base_url
    if configured:
        return configured
    embedded: Callable[[], str] | None = current_app.extensions.get(EMBEDDED_SANDBOX_KEY)
    if embedded is None:
        raise ServiceUnavailable(_("No platform base URL is configured (set ADFLUX_PLATFORM_BASE_URL)"))
    return embedded()


def account_for(platform: str) -> tuple[AccountConfig, int | None]:
    """The account config for `platform` and the PlatformAccount id it came from (None = sandbox)."""
    row = db.session.scalars(
        select(PlatformAccount)
        .where(PlatformAccount.platform == platform, PlatformAccount.active.is_(True))
        .order_by(PlatformAccount.priority.desc(), PlatformAccount.id)
        .limit(1)
    ).first()
    if row is None:
        sandbox = SANDBOX_ACCOUNTS[platform]
        rate = parse_rate_limits(current_settings().sandbox_rate_limits).get(platform)
        return (
            AccountConfig(
                account_id=sandbox["account_id"],
                credentials=dict(sandbox["credentials"]),
                base_url=default_base_url(),
                # Burst 1: the client smooths its calls and the platform's burst absorbs jitter.
                rate_limit_per_second=rate,
                rate_limit_burst=1 if rate else None,
                **shared_limit(current_settings()),
                extra=dict(sandbox.get("extra", {})),
            ),
            None,
        )
    return config_of(row), row.id


def shared_limit(settings: Settings) -> dict[str, Any]:
    """Where the account's one rate budget lives for every process (none: this process's own)."""
    scope = settings.platform_rate_limit_scope
    return {
        "rate_limit_shared_url": rate_limits.redis_url(settings) if scope == "account" else None,
        "rate_limit_fallback_share": settings.platform_rate_limit_fallback_share,
    }


def config_of(row: PlatformAccount) -> AccountConfig:
    """The adapter config of one configured account (its destination checked first)."""
    _check_destination(row)
    return AccountConfig(
        account_id=row.external_account_id,
        credentials=_decrypt(row.credentials_encrypted),
        base_url=row.base_url or default_base_url(),
        api_version=row.api_version,
        rate_limit_per_second=row.rate_limit_per_second,
        **shared_limit(current_settings()),
        # page_id, login_customer_id, identity_id, ...: what the adapters read as extras.
        extra=dict(row.identifiers or {}),
    )


def _check_destination(row: PlatformAccount) -> None:
    """Credentials never leave for a host the account may no longer use (rows saved before the
    production host rule, or edited in the database): refuse instead of sending them."""
    try:
        platform_accounts.check_base_url(row.platform, row.base_url)
    except ValidationFailed as exc:
        logger.error(
            "Platform account %s: credentials not sent to %s (%s)", row.id, row.base_url, exc.message
        )
        raise ServiceUnavailable(
            _(
                "Platform account %(id)s points at %(base_url)s, not the official "
                "%(platform)s API: save it again with an official https URL",
                id=row.id,
                base_url=row.base_url,
                platform=row.platform,
            )
        ) from exc


def _decrypt(blob: str | None) -> dict[str, str]:
    if not blob:
        return {}
    return secrets.decrypt_credentials(blob)


def adapter_for(
    platform: str, *, transport_config: TransportConfig | None = None
) -> tuple[PlatformAdapter, int | None]:
    """A ready adapter for `platform` and the account row id behind it."""
    account, account_id = account_for(platform)
    return get_adapter(platform, account, transport_config=transport_config), account_id
