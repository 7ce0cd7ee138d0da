"""Dashboard sign-in: the password, the guessing limits and the second factor, in that order."""

from __future__ import annotations

import logging

from sqlalchemy import select
from werkzeug.security import check_password_hash

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import User
from adflux.models.base import utcnow
from adflux.services import audit, sign_in_limits, totp
from adflux.services.auth import normalise_email
from adflux.services.errors import Unauthenticated
from adflux.services.sign_in_limits import TooManyAttempts
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

__all__ = ["SecondFactorNeeded", "SecondFactorNotEnrolled", "TooManyAttempts", "authenticate_password"]


# Checked against when the e-mail is unknown, so a failed sign-in takes as long either way and does
# not reveal which addresses have accounts: the hash of a random password nobody kept, with the
# method and cost werkzeug uses for real ones (a test checks they still match). A constant, not
# hashed at import: that cost ~0.1 s of CPU in every process (the CLI, each worker) at start-up.
_DUMMY_PASSWORD_HASH = (
    "scrypt:32768:8:1$IDxCfCXerCkIgARd$55f531452866ff94c00d27dd87224f85b8115b64e7fa4a1022092922eecb5529"
    "b94ab262832553277ec0f10109ddb7a0f4bdfd064e8b110e43ae291365366695"
)


class SecondFactorNeeded(Unauthenticated):
    """The password was right but the account signs in with a TOTP code too (missing or wrong)."""


class SecondFactorNotEnrolled(Unauthenticated):
    """ADFLUX_REQUIRE_TOTP is on and this admin or manager has no TOTP yet."""


# Roles that must use two-factor sign-in when ADFLUX_REQUIRE_TOTP is on.
TOTP_ROLES = ("admin", "manager")


def authenticate_password(
    *,
    email: str,
    password: str,
    code: str | None = None,
    address: str | None = None,
    trusted_device: tuple[int, str] | None = None,
) -> User:
    """The active user with this e-mail and password (and TOTP code when enrolled), or an error.

    Wrong e-mail and wrong password get the same answer; guessing is slowed by sign_in_limits
    (TooManyAttempts) before the password is checked. `trusted_device` is (user id, device id)
    from a cookie set by an earlier successful sign-in in the same browser.
    """
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    device = trusted_device[1] if trusted_device and user and trusted_device[0] == user.id else None
    keys = sign_in_limits.keys_for(
        email=email, address=address, trusted_device=device, settings=current_settings()
    )
    sign_in_limits.claim_attempt(keys)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_PASSWORD_HASH
    valid = check_password_hash(stored, password)
    if user is None or not user.password_hash or not valid or not user.active:
        reason = "inactive" if user is not None and valid and user.active is False else "invalid"
        _failed_sign_in(user, reason)
        raise Unauthenticated(_("Wrong e-mail or password"))
    _check_second_factor(user, code)
    sign_in_limits.attempt_succeeded(keys)
    user.last_login_at = utcnow()
    audit.record("auth.login", entity_type="user", entity_id=user.id)
    db.session.commit()
    return user


def _failed_sign_in(user: User | None, reason: str) -> None:
    audit.record(
        "auth.login_failed",
        entity_type="user",
        entity_id=user.id if user is not None else None,
        after={"reason": reason},
    )
    db.session.commit()
    logger.warning("Failed sign-in (user known: %s, reason %s)", user is not None, reason)


def _check_second_factor(user: User, code: str | None) -> None:
    if totp.is_enrolled(user):
        if not totp.verify(user, code):
            _failed_sign_in(user, "totp" if code else "totp_missing")
            raise SecondFactorNeeded("Enter the current code from your authenticator app")
    elif current_settings().require_totp and user.role in TOTP_ROLES:
        _failed_sign_in(user, "totp_not_enrolled")
        raise SecondFactorNotEnrolled(
            "Your role signs in with two-step verification: an admin must enrol you "
            "(adflux users totp-enable) first"
        )
