"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238: SHA-1, 6 digits, 30 s).

Any authenticator app reads the ``otpauth://`` URI (or the base32 secret) given at enrolment. The
secret is stored encrypted with the platform-credential key; a code is accepted within one step
either side of now (clock drift) and never twice (the last accepted step is kept).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

from adflux.extensions import db
from adflux.models import User
from adflux.services import audit
from adflux.services import secrets as secret_store
from adflux.services.auth import end_sessions, get_user

STEP_SECONDS = 30
DIGITS = 6
ISSUER = "AdFlux"


def new_secret() -> str:
    """A random 160-bit secret in base32 (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def code_at(secret: str, step: int) -> str:
    """The code of time step `step` (RFC 4226 HOTP over the step counter)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(
    secret: str, code: str, *, now: float | None = None, after: int | None = None
) -> int | None:
    """The step (now ±1) whose code is `code` and is later than `after`, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    step = current_step(now)
    for candidate in (step - 1, step, step + 1):
        if (after is None or candidate > after) and hmac.compare_digest(code_at(secret, candidate), code):
            return candidate
    return None


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI authenticator apps scan."""
    label = quote(f"{ISSUER}:{email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}&digits={DIGITS}&period={STEP_SECONDS}"


def is_enrolled(user: User) -> bool:
    return bool(user.totp_secret_encrypted)


def enable(user: User) -> str:
    """Give `user` a new TOTP secret (replacing any earlier one) and return it: shown once."""
    secret = new_secret()
    user.totp_secret_encrypted = secret_store.encrypt_credentials({"totp": secret})
    user.totp_last_step = None
    audit.record("user.totp_enable", entity_type="user", entity_id=user.id)
    db.session.commit()
    return secret


def disable(user: User) -> None:
    """Turn two-factor sign-in off for `user`."""
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    audit.record("user.totp_disable", entity_type="user", entity_id=user.id)
    db.session.commit()


def enable_for(*, user_id: int) -> tuple[str, str]:
    """Enrol user `user_id`: (the secret, its otpauth:// URI), shown once. Ends their sessions."""
    user = get_user(user_id=user_id)
    end_sessions(user)
    secret = enable(user)
    return secret, provisioning_uri(secret, user.email)


def disable_for(*, user_id: int) -> None:
    """Turn two-factor sign-in off for user `user_id`."""
    disable(get_user(user_id=user_id))


def verify(user: User, code: str | None, *, now: float | None = None) -> bool:
    """Whether `code` is the user's current code (and not one already used); records its step."""
    if not user.totp_secret_encrypted or not code:
        return False
    secret = str(secret_store.decrypt_credentials(user.totp_secret_encrypted)["totp"])
    step = matching_step(secret, code, now=now, after=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step  # committed with the sign-in
    return True
