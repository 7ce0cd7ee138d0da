"""Which account, credentials and base URL each platform adapter uses.

A platform account configured by an admin wins; without one, AdFlux uses a sandbox account:
the sandbox at ADFLUX_PLATFORM_BASE_URL, or, when that is unset (the embedded default), a sandbox
started in this process on a free loopback port.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from flask import current_app
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import PlatformAccount
from adflux.platforms.base import PlatformAdapter
from adflux.platforms.registry import get_adapter
from adflux.platforms.transport import TransportConfig
from adflux.platforms.types import AccountConfig
from adflux.sandbox.x import SANDBOX_CREDENTIALS as X_SANDBOX_CREDENTIALS
from adflux.settings import Settings, parse_rate_limits

logger = logging.getLogger(__name__)

# Sandbox account ids in each platform's own format; the sandbox accepts any non-expired token.
SANDBOX_ACCOUNTS: dict[str, dict[str, Any]] = {
    "meta": {
        "account_id": "act_1000000001",
        "credentials": {"access_token": "sandbox-meta-token"},
        "extra": {"page_id": "100000000000001"},
    },
    "google": {
        "account_id": "1234567890",
        "credentials": {"access_token": "sandbox-google-token", "developer_token": "sandbox-dev-token"},
    },
    # The X sandbox verifies OAuth 1.0a signatures, so it needs its own key pair.
    "x": {"account_id": "18ce54d4x5t", "credentials": dict(X_SANDBOX_CREDENTIALS)},
    "tiktok": {"account_id": "7000000000000000001", "credentials": {"access_token": "sandbox-tiktok-token"}},
    "snapchat": {
        "account_id": "8b1a4c4e-6a3f-4d5e-9b1f-0a2b3c4d5e6f",
        "credentials": {"access_token": "sandbox-snap-token"},
    },
}

_sandbox_lock = threading.Lock()
_sandbox: Any = None


def in_process_sandbox() -> Any:
    """The sandbox server running in this process, starting it on first use."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            from adflux.sandbox.server import start_sandbox_in_thread

            _sandbox = start_sandbox_in_thread()
            logger.info("started the in-process platform sandbox at %s", _sandbox.base_url)
        return _sandbox


def set_in_process_sandbox(server: Any) -> Any:
    """Use `server` as this process's sandbox (tests and the demo pick its options); returns the old one."""
    global _sandbox
    with _sandbox_lock:
        previous, _sandbox = _sandbox, server
    return previous


def _settings() -> Settings:
    return current_app.extensions["adflux_settings"]


def default_base_url() -> str:
    """Where adapters without a configured account send their calls."""
    return _settings().platform_base_url or in_process_sandbox().base_url


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
        rate = parse_rate_limits(_settings().sandbox_rate_limits).get(platform)
        return (
            AccountConfig(
                account_id=sandbox["account_id"],
                credentials=dict(sandbox["credentials"]),
                base_url=default_base_url(),
                # Burst 1: the client smooths its calls and the platform's burst absorbs jitter.
                rate_limit_per_second=rate,
                rate_limit_burst=1 if rate else None,
                extra=dict(sandbox.get("extra", {})),
            ),
            None,
        )
    return (
        AccountConfig(
            account_id=row.external_account_id,
            credentials=_decrypt(row.credentials_encrypted),
            base_url=row.base_url or default_base_url(),
            api_version=row.api_version,
            rate_limit_per_second=row.rate_limit_per_second,
        ),
        row.id,
    )


def _decrypt(blob: str | None) -> dict[str, str]:
    if not blob:
        return {}
    try:
        from adflux.services import secrets
    except ImportError:  # encryption service not installed: credentials stored as plain JSON
        return json.loads(blob)
    return secrets.decrypt_credentials(blob)


def adapter_for(
    platform: str, *, transport_config: TransportConfig | None = None
) -> tuple[PlatformAdapter, int | None]:
    """A ready adapter for `platform` and the account row id behind it."""
    account, account_id = account_for(platform)
    return get_adapter(platform, account, transport_config=transport_config), account_id
