"""Test connection: one cheap authenticated read of a platform account, told in plain words.

Says whether the platform answered, whether it took the credentials, what state the ad account is
in (with its currency and time zone), and what the account still lacks to publish.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from flask_babel import gettext as _

from adflux.constants import PLATFORM_LABELS
from adflux.extensions import db
from adflux.platforms.account_reads import AccountInfo, read_account
from adflux.platforms.adapters import get_adapter
from adflux.platforms.errors import (
    AmbiguousOutcomeError,
    AuthError,
    PlatformError,
    RetryableError,
    ThrottledError,
)
from adflux.platforms.transport import RetryPolicy, TransportConfig
from adflux.services import account_identifiers, audit, platform_access, platform_accounts, secrets
from adflux.services.errors import DomainError
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

HOME_CURRENCY = "COP"
HOME_TIMEZONE = "America/Bogota"


@dataclass
class ConnectionResult:
    """The answer of one test: each fact, the problems and warnings in words, and a one-line summary."""

    account_id: int
    platform: str
    ok: bool = False
    reachable: bool = False
    auth_ok: bool | None = None
    account_found: bool | None = None
    name: str | None = None
    status: str | None = None
    status_label: str | None = None
    raw_status: str | None = None
    currency: str | None = None
    timezone: str | None = None
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: str = ""
    latency_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the API and the templates."""
        return asdict(self)


def status_labels() -> dict[str, str]:
    """The account states in words."""
    return {
        "active": _("active"),
        "pending": _("pending review"),
        "disabled": _("disabled"),
        "closed": _("closed"),
        "unknown": _("unknown"),
    }


def check_connection(*, account_id: int) -> ConnectionResult:
    """Read the account on its platform once (no retries) and say what works and what does not."""
    account = platform_accounts.get_account(account_id=account_id)
    result = ConnectionResult(account_id=account.id, platform=account.platform)
    try:
        keys = set(platform_accounts.account_credentials(account))
    except secrets.CredentialsUnreadable:
        keys = set()
        result.problems.append(
            _("The stored credentials cannot be read (the encryption key changed): enter them again.")
        )
    result.missing = account_identifiers.missing(account.platform, account.identifiers, keys)
    started = time.perf_counter()
    try:
        _read(account, result)
    finally:
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
    _conclude(result)
    audit.record(
        "platform_account.test",
        entity_type="platform_account",
        entity_id=account.id,
        after={
            "ok": result.ok,
            "reachable": result.reachable,
            "auth_ok": result.auth_ok,
            "status": result.status,
            "missing": len(result.missing),
        },
    )
    db.session.commit()
    return result


def _read(account: Any, result: ConnectionResult) -> None:
    seconds = max(current_settings().health_timeout_seconds, 5.0)
    config = TransportConfig(
        timeout=httpx.Timeout(seconds, connect=min(seconds, 3.0)), retry=RetryPolicy(max_attempts=1)
    )
    try:
        adapter = get_adapter(account.platform, platform_access.config_of(account), transport_config=config)
    except secrets.CredentialsUnreadable:
        return  # already said
    except DomainError as exc:
        result.problems.append(exc.message)
        return
    try:
        info = read_account(adapter)
    except AuthError as exc:
        result.reachable, result.auth_ok = True, False
        result.problems.append(_("The platform refused the credentials: %(detail)s", detail=exc.message))
    except ThrottledError:
        result.reachable = True
        result.problems.append(_("The platform is limiting calls right now: try again in a minute."))
    except (AmbiguousOutcomeError, RetryableError) as exc:
        reachable = exc.status_code is not None
        result.reachable = reachable
        result.problems.append(
            _("The platform answered with an error; try again later (%(detail)s).", detail=exc.message)
            if reachable
            else _("The platform could not be reached at %(url)s.", url=adapter.transport.url(""))
        )
    except PlatformError as exc:
        result.reachable, result.auth_ok, result.account_found = True, True, False
        result.problems.append(
            _(
                "The platform does not accept account %(id)s: %(detail)s",
                id=account.external_account_id,
                detail=exc.message,
            )
        )
    else:
        result.reachable, result.auth_ok, result.account_found = True, True, True
        _facts(result, info)
    finally:
        adapter.close()


def _facts(result: ConnectionResult, info: AccountInfo) -> None:
    result.name, result.status, result.raw_status = info.name, info.status, info.raw_status
    result.status_label = status_labels()[info.status]
    result.currency, result.timezone = info.currency, info.timezone
    if info.status != "active":
        result.problems.append(
            _(
                "The ad account is %(state)s on the platform (%(raw)s): it cannot deliver ads.",
                state=result.status_label,
                raw=info.raw_status or "?",
            )
        )
    if info.currency and info.currency != HOME_CURRENCY:
        result.warnings.append(
            _("The account bills in %(currency)s; AdFlux budgets in Colombian pesos.", currency=info.currency)
        )
    if info.timezone and info.timezone != HOME_TIMEZONE:
        result.warnings.append(
            _(
                "The account's time zone is %(zone)s, not Bogotá: its days will not match AdFlux's.",
                zone=info.timezone,
            )
        )


def _conclude(result: ConnectionResult) -> None:
    platform = str(PLATFORM_LABELS.get(result.platform, result.platform))
    if result.missing:
        result.problems.append(_("Missing before publishing: %(names)s.", names=", ".join(result.missing)))
    result.ok = bool(result.reachable and result.auth_ok and result.account_found and not result.problems)
    if result.ok:
        result.summary = _(
            "Connection to %(platform)s works: account «%(name)s» is active, in %(currency)s, %(zone)s.",
            platform=platform,
            name=result.name or "?",
            currency=result.currency or "?",
            zone=result.timezone or "?",
        )
    else:
        result.summary = _(
            "Connection to %(platform)s: %(problem)s", platform=platform, problem=result.problems[0]
        )
