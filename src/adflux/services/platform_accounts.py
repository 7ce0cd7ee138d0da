"""Ad-platform accounts an admin configures: credentials encrypted at rest, masked when shown."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import OFFICIAL_API_HOSTS
from adflux.extensions import db
from adflux.models import PlatformAccount, PlatformCampaign
from adflux.services import account_identifiers, audit, secrets
from adflux.services.errors import Conflict, NotFound, ValidationFailed
from adflux.services.pagination import Page, paginate
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

# Changing any of these changes where the stored credentials would be sent.
DESTINATION_FIELDS = ("base_url", "platform")


class CredentialsRequired(ValidationFailed):
    """A change of destination without the credentials: the stored ones never follow a new host."""

    status = 400
    code = "credentials_required"


AUDITED_FIELDS = (
    "platform",
    "name",
    "external_account_id",
    "base_url",
    "api_version",
    "token_expires_at",
    "rate_limit_per_second",
    "is_sandbox",
    "active",
    "priority",
    "identifiers",
)


def list_accounts(
    *, page: int = 1, page_size: int = 20, platform: str | None = None, active: bool | None = None
) -> Page[PlatformAccount]:
    """Accounts, by platform and priority."""
    stmt = select(PlatformAccount)
    if platform:
        stmt = stmt.where(PlatformAccount.platform == platform)
    if active is not None:
        stmt = stmt.where(PlatformAccount.active.is_(active))
    stmt = stmt.order_by(PlatformAccount.platform, PlatformAccount.priority.desc(), PlatformAccount.id)
    return paginate(stmt, page=page, page_size=page_size)


def get_account(*, account_id: int) -> PlatformAccount:
    """One account, or NotFound."""
    account = db.session.get(PlatformAccount, account_id)
    if account is None:
        raise NotFound(_("Platform account %(account_id)s does not exist", account_id=account_id))
    return account


def create_account(*, data: dict[str, Any]) -> PlatformAccount:
    """Create an account; its credentials are encrypted before they reach the session."""
    data = dict(data)
    credentials = data.pop("credentials", None) or {}
    check_base_url(data["platform"], data.get("base_url"))
    data["external_account_id"] = account_identifiers.clean_account_id(
        data["platform"], data["external_account_id"]
    )
    data["identifiers"] = account_identifiers.clean_identifiers(data["platform"], data.get("identifiers"))
    _check_unique(data["platform"], data["external_account_id"])
    account = PlatformAccount(**data)
    account.credentials_encrypted = secrets.encrypt_credentials(credentials) if credentials else None
    db.session.add(account)
    db.session.flush()
    audit.record(
        "platform_account.create",
        entity_type="platform_account",
        entity_id=account.id,
        after=_snapshot(account, credentials),
    )
    db.session.commit()
    logger.info("Created %s platform account %s", account.platform, account.id)
    return account


def update_account(*, account_id: int, changes: dict[str, Any]) -> PlatformAccount:
    """Apply changes; `credentials`, when given, replaces the stored set as a whole."""
    account = get_account(account_id=account_id)
    changes = dict(changes)
    # Unreadable (the key changed) must not block replacing them: that is how one recovers.
    old_credentials = _readable_credentials(account)
    before = _snapshot(account, old_credentials)
    new_credentials = changes.pop("credentials", None)
    platform = changes.get("platform", account.platform)
    moved = [
        name for name in DESTINATION_FIELDS if name in changes and changes[name] != getattr(account, name)
    ]
    if moved:
        check_base_url(platform, changes.get("base_url", account.base_url))
        if new_credentials is None and account.credentials_encrypted:
            raise CredentialsRequired(
                f"Changing {' and '.join(moved)} changes where the credentials are sent: "
                "send the credentials again in the same request",
                errors={"credentials": ["Required when base_url or platform changes."]},
            )
    _clean_ids(account, changes, platform)
    external_id = changes.get("external_account_id", account.external_account_id)
    if (platform, external_id) != (account.platform, account.external_account_id):
        _check_unique(platform, external_id)
    for name, value in changes.items():
        setattr(account, name, value)
    after_credentials = old_credentials
    if new_credentials is not None:
        account.credentials_encrypted = (
            secrets.encrypt_credentials(new_credentials) if new_credentials else None
        )
        after_credentials = new_credentials
    after = _snapshot(account, after_credentials)
    after["credentials_changed"] = new_credentials is not None and new_credentials != old_credentials
    audit.record(
        "platform_account.update",
        entity_type="platform_account",
        entity_id=account.id,
        before=before,
        after=after,
    )
    db.session.commit()
    return account


def _clean_ids(account: PlatformAccount, changes: dict[str, Any], platform: str) -> None:
    """The account id and identifiers in `changes` checked for `platform`; given identifier keys
    replace the stored ones, an empty value removes its key."""
    if "external_account_id" in changes or platform != account.platform:
        changes["external_account_id"] = account_identifiers.clean_account_id(
            platform, changes.get("external_account_id", account.external_account_id)
        )
    if "identifiers" in changes or platform != account.platform:
        merged = {**(account.identifiers or {}), **(changes.get("identifiers") or {})}
        changes["identifiers"] = account_identifiers.clean_identifiers(platform, merged)


def check_base_url(platform: str, base_url: str | None) -> None:
    """Production: https on the platform's official API host only; elsewhere also loopback."""
    if base_url is None:
        return
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    official = OFFICIAL_API_HOSTS.get(platform, ())
    if parts.scheme == "https" and host in official:
        return
    production = current_settings().is_production
    if not production and _is_loopback(host):
        return
    allowed = ", ".join(f"https://{h}" for h in official)
    where = "" if production else " or a loopback address (outside production)"
    raise ValidationFailed(
        _("%(base_url)s is not an official %(platform)s API address", base_url=base_url, platform=platform),
        errors={"base_url": [f"Use {allowed}{where}."]},
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def delete_account(*, account_id: int) -> None:
    """Delete an account no campaign was published with; used ones can only be deactivated."""
    account = get_account(account_id=account_id)
    used = db.session.scalar(
        select(PlatformCampaign.id).where(PlatformCampaign.account_id == account_id).limit(1)
    )
    if used is not None:
        raise Conflict(
            _(
                "Platform account %(account_id)s was used to publish campaigns; "
                "deactivate it (active=false) instead",
                account_id=account_id,
            )
        )
    audit.record(
        "platform_account.delete",
        entity_type="platform_account",
        entity_id=account.id,
        before=_snapshot(account, _readable_credentials(account)),
    )
    db.session.delete(account)
    db.session.commit()


def account_credentials(account: PlatformAccount) -> dict[str, Any]:
    """The decrypted credentials of `account` (for the platform adapters; never for responses)."""
    if not account.credentials_encrypted:
        return {}
    return secrets.decrypt_credentials(account.credentials_encrypted)


def masked_credentials(account: PlatformAccount) -> dict[str, Any]:
    """The account's credentials as shown to people: keys kept, values masked."""
    return secrets.mask_credentials(_readable_credentials(account))


class AccountView:
    """An account as people see it: its columns, and its credentials masked (never the secrets)."""

    def __init__(self, account: PlatformAccount) -> None:
        self._account = account
        self.credentials_masked = masked_credentials(account)
        self.credentials_status = credentials_status(account)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._account, name)


def shown(account: PlatformAccount) -> AccountView:
    """`account` ready for a response: credentials masked, their status (none, set, unreadable)."""
    return AccountView(account)


def credentials_status(account: PlatformAccount) -> str:
    """none, set, or unreadable (encrypted with a key that is no longer configured)."""
    if not account.credentials_encrypted:
        return "none"
    try:
        account_credentials(account)
    except secrets.CredentialsUnreadable:
        return "unreadable"
    return "set"


def _readable_credentials(account: PlatformAccount) -> dict[str, Any]:
    try:
        return account_credentials(account)
    except secrets.CredentialsUnreadable:
        return {}


def rotate_encryption_key() -> int:
    """Re-encrypt every account's credentials with the newest key; returns how many changed."""
    count = 0
    for account in db.session.scalars(
        select(PlatformAccount).where(PlatformAccount.credentials_encrypted.is_not(None))
    ):
        account.credentials_encrypted = secrets.reencrypt(account.credentials_encrypted or "")
        count += 1
    if count:
        audit.record("platform_account.rotate_key", entity_type="platform_account", after={"accounts": count})
    db.session.commit()
    return count


def _check_unique(platform: str, external_account_id: str) -> None:
    exists = db.session.scalar(
        select(PlatformAccount.id).where(
            PlatformAccount.platform == platform, PlatformAccount.external_account_id == external_account_id
        )
    )
    if exists is not None:
        raise Conflict(
            _(
                "A %(platform)s account with id %(external_account_id)r already exists",
                platform=platform,
                external_account_id=external_account_id,
            )
        )


def _snapshot(account: PlatformAccount, credentials: dict[str, Any]) -> dict[str, Any]:
    snap = audit.snapshot(account, AUDITED_FIELDS)
    # Which credentials are set, never their values.
    snap["credential_keys"] = sorted(credentials)
    return snap
