"""Dashboard sessions that end: a lifetime, an idle timeout, and sign-out on the server side.

The session cookie is signed, so it cannot be forged, but a copy of it would keep working until it
expires. Each user therefore has a *session generation*: a session is valid only while it carries
the user's current generation, and raising the generation (sign-out, password, role or active
change) ends every session of that user at once, copies included. The cookie also carries when
it was opened and when it was last used, checked here against ADFLUX_SESSION_LIFETIME_HOURS and
ADFLUX_SESSION_IDLE_MINUTES (the browser's own expiry is only a hint).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from adflux.extensions import db
from adflux.models import User
from adflux.services.auth import Principal, end_sessions, principal_for
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

# Writing "last used" back into the cookie on every request is needless; once a minute is enough.
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class SessionStamp:
    """What a session cookie says about itself."""

    user_id: int
    generation: int
    fingerprint: str
    opened_at: float
    seen_at: float


def session_fingerprint(user: User) -> str:
    """Changes when the password does (kept with the generation for sessions opened before it)."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def new_stamp(user: User, *, now: float | None = None) -> SessionStamp:
    """The stamp of a session opened now for `user`."""
    now = time.time() if now is None else now
    return SessionStamp(user.id, user.session_generation or 0, session_fingerprint(user), now, now)


def expired(stamp: SessionStamp, *, now: float | None = None, settings: Settings | None = None) -> bool:
    """Past the lifetime since sign-in, or idle for longer than the idle timeout."""
    settings = settings or current_settings()
    now = time.time() if now is None else now
    if now - stamp.opened_at > settings.session_lifetime_hours * 3600:
        return True
    idle = settings.session_idle_minutes * 60
    return bool(idle) and now - stamp.seen_at > idle


def load_session_user(stamp: SessionStamp) -> Principal | None:
    """The session's principal; None once the user is gone, deactivated, or their sessions ended."""
    user = db.session.get(User, stamp.user_id)
    if user is None or not user.active:
        return None
    if stamp.generation != (user.session_generation or 0) or stamp.fingerprint != session_fingerprint(user):
        return None
    return principal_for(user, auth="session")


def sign_out_everywhere(*, user_id: int) -> None:
    """Sign-out: every session of the user ends, here and wherever the cookie was copied."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    end_sessions(user)
    db.session.commit()
