"""Users, roles, passwords and API tokens: who may do what.

Roles are ordered viewer < manager < admin; a caller may do anything a lower role may. API tokens
look like ``adf_<prefix>_<secret>``: the whole token is shown once, only its SHA-256 is stored, and
the prefix (not secret) lets people tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from adflux.catalogue import gettext as _
from adflux.constants import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, MIN_PASSWORD_LENGTH, ROLES, TOKEN_SCHEME
from adflux.extensions import db
from adflux.models import ApiToken, User
from adflux.models.base import utcnow
from adflux.services import audit
from adflux.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)
from adflux.services.pagination import Page, paginate
from adflux.services.token_cache import TOKEN_CACHE_SECONDS, TokenCache

logger = logging.getLogger(__name__)

ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
# Writing last_used_at on every request would turn every read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)

USER_AUDIT_FIELDS = ("email", "name", "role", "active")
TOKEN_AUDIT_FIELDS = ("name", "prefix", "user_id", "expires_at", "revoked_at")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by token or session) or the trusted local CLI."""

    id: int | None
    email: str
    role: str
    name: str = ""
    auth: str = "token"  # token | session | local
    token_id: int | None = None

    def has_role(self, required: str) -> bool:
        return role_at_least(self.role, required)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: `secret` is the only time the full token exists outside the caller."""

    token: ApiToken
    secret: str


def role_at_least(role: str, required: str) -> bool:
    """True when `role` includes the rights of `required`."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[required]


def local_principal(name: str) -> Principal:
    """The identity of commands run on this machine (they already have the database)."""
    return Principal(id=None, email=f"local:{name}", role="admin", name=name, auth="local")


def principal_for(user: User, *, auth: str, token_id: int | None = None) -> Principal:
    """A Principal for an active user."""
    return Principal(
        id=user.id, email=user.email, role=user.role, name=user.name, auth=auth, token_id=token_id
    )


# ---- passwords ----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default method)."""
    return generate_password_hash(password)


def check_password_strength(password: str) -> None:
    """Refuse passwords too short or too long to be reasonable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("The password is too short"),
            errors={"password": [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
        )
    if len(password) > 256:
        raise ValidationFailed(
            _("The password is too long"), errors={"password": ["256 characters at most."]}
        )


def end_sessions(user: User) -> None:
    """End every dashboard session of `user` at once (the caller commits); see services.sessions."""
    user.session_generation = (user.session_generation or 0) + 1


# ---- users --------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively."""
    return email.strip().lower()


def list_users(
    *,
    page: int = 1,
    page_size: int = 20,
    role: str | None = None,
    active: bool | None = None,
    email: str | None = None,
) -> Page[User]:
    """Users, by e-mail."""
    stmt = select(User)
    if role:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if email:
        stmt = stmt.where(User.email == normalise_email(email))
    return paginate(stmt.order_by(User.email), page=page, page_size=page_size)


def get_user(*, user_id: int) -> User:
    """One user, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("User %(user_id)s does not exist", user_id=user_id))
    return user


def create_user(*, email: str, role: str = "viewer", name: str = "", password: str | None = None) -> User:
    """Create a user; the e-mail must be new. Without a password the user can only use API tokens."""
    _check_role(role)
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("A user with e-mail %(email)s already exists", email=email))
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        name=name,
        role=role,
        active=True,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create", entity_type="user", entity_id=user.id, after=_user_snapshot(user, password=password)
    )
    db.session.commit()
    logger.info("Created user %s with role %s", user.id, role)
    return user


def update_user(*, user_id: int, changes: dict[str, Any], actor: Principal | None = None) -> User:
    """Change a user's name, role, active flag or password; the last active admin stays an admin."""
    user = get_user(user_id=user_id)
    before = _user_snapshot(user)
    if "role" in changes:
        _check_role(changes["role"])
    demoted = changes.get("role", user.role) != "admin" or changes.get("active", user.active) is False
    if user.role == "admin" and user.active and demoted and _active_admins() <= 1:
        raise Conflict(_("This is the last active admin; make another admin first"))
    if actor is not None and actor.id == user.id and changes.get("active") is False:
        raise Conflict(_("You cannot deactivate yourself"))
    ends_sessions = any(
        name in changes and changes[name] != getattr(user, name) for name in ("role", "active")
    )
    for name in ("name", "role", "active"):
        if name in changes:
            setattr(user, name, changes[name])
    password = changes.get("password")
    if password is not None:
        check_password_strength(password)
        user.password_hash = hash_password(password)
    if ends_sessions or password is not None:
        end_sessions(user)  # a new password, role or deactivation: every open session ends
    after = _user_snapshot(user, password=password)
    audit.record("user.update", entity_type="user", entity_id=user.id, before=before, after=after)
    db.session.commit()
    return user


def _active_admins() -> int:
    return db.session.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    ).scalar_one()  # COUNT(*) always answers one row


def _user_snapshot(user: User, *, password: str | None = None) -> dict[str, Any]:
    snap = audit.snapshot(user, USER_AUDIT_FIELDS)
    # Never the password or its hash: only the fact that it was set.
    snap["password_set"] = bool(user.password_hash)
    if password is not None:
        snap["password_changed"] = True
    return snap


def _check_role(role: str) -> None:
    if role not in ROLE_RANK:
        raise ValidationFailed(
            _("Unknown role %(role)r", role=role), errors={"role": [f"One of {', '.join(ROLES)}."]}
        )


# ---- API tokens ---------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """The stored form of a token (tokens are long random strings, so a plain SHA-256 suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *,
    user_id: int,
    name: str,
    expires_in_days: int | None = DEFAULT_TOKEN_DAYS,
    actor: Principal | None = None,
) -> IssuedToken:
    """Create a token for `user_id`; only admins may create tokens for someone else."""
    if actor is not None and not actor.is_admin and actor.id != user_id:
        raise PermissionDenied(_("You may only create tokens for yourself"))
    user = get_user(user_id=user_id)
    if not user.active:
        raise Conflict(_("User %(user_id)s is deactivated", user_id=user_id))
    days = DEFAULT_TOKEN_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            _("Invalid expiry"), errors={"expires_in_days": [f"Between 1 and {MAX_TOKEN_DAYS} days."]}
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=hash_token(secret),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        entity_type="api_token",
        entity_id=token.id,
        after=audit.snapshot(token, TOKEN_AUDIT_FIELDS),
    )
    db.session.commit()
    logger.info("Issued API token %s (prefix %s) for user %s", token.id, prefix, user.id)
    return IssuedToken(token=token, secret=secret)


def list_tokens(
    *,
    actor: Principal,
    page: int = 1,
    page_size: int = 20,
    user_id: int | None = None,
    include_revoked: bool = False,
) -> Page[ApiToken]:
    """Tokens the actor may see: their own, or anyone's (optionally one user's) for an admin."""
    stmt = select(ApiToken)
    if not actor.is_admin:
        stmt = stmt.where(ApiToken.user_id == actor.id)
    elif user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return paginate(
        stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()), page=page, page_size=page_size
    )


def revoke_token(*, token_id: int, actor: Principal) -> ApiToken:
    """Revoke a token at once; others' tokens look like missing ones to non-admins."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (not actor.is_admin and token.user_id != actor.id):
        raise NotFound(_("Token %(token_id)s does not exist", token_id=token_id))
    if token.revoked_at is not None:
        return token
    before = audit.snapshot(token, TOKEN_AUDIT_FIELDS)
    token.revoked_at = utcnow()
    audit.record(
        "token.revoke",
        entity_type="api_token",
        entity_id=token.id,
        before=before,
        after=audit.snapshot(token, TOKEN_AUDIT_FIELDS),
    )
    db.session.commit()
    logger.info("Revoked API token %s (prefix %s)", token.id, token.prefix)
    return token


# ---- token → principal cache ----------------------------------------------------------------
#
# Every API request carries a token; looking it up costs a query and two ORM objects. A valid
# token's principal is kept in this process for TOKEN_CACHE_SECONDS. Correctness bound: a change
# to a token or user (revoked, expired early, deactivated, role changed) made through the ORM in
# this process clears the cache at once (at flush and again at commit); a change made by another
# process (another gunicorn worker, the CLI, another machine) is seen here within
# TOKEN_CACHE_SECONDS. A cached token is never served past its expires_at. Invalid tokens are
# never cached. last_used_at is written on cache misses, so at most once a minute plus
# TOKEN_CACHE_SECONDS late.
_SESSION_AUTH_CHANGED = "adflux_auth_changed"


_token_cache = TokenCache(ttl_seconds=TOKEN_CACHE_SECONDS)


def clear_token_cache() -> None:
    """Forget every cached token."""
    _token_cache.clear()


def _forget(key: tuple[str, Any]) -> None:
    kind, value = key
    if kind == "token":
        _token_cache.forget_token(value)
    else:
        _token_cache.forget_user(value)


def _on_auth_row_changed(mapper: Any, connection: Any, target: Any) -> None:
    key = ("token", target.token_hash) if isinstance(target, ApiToken) else ("user", target.id)
    _forget(key)
    session = Session.object_session(target)
    if session is not None:
        session.info.setdefault(_SESSION_AUTH_CHANGED, set()).add(key)


def _on_commit(session: Session) -> None:
    # Again after commit: a request that read the old row between flush and commit may have
    # cached it.
    for key in session.info.pop(_SESSION_AUTH_CHANGED, ()):
        _forget(key)


def _on_rollback(session: Session) -> None:
    session.info.pop(_SESSION_AUTH_CHANGED, None)


for _model in (ApiToken, User):
    for _change in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _change, _on_auth_row_changed)
event.listen(Session, "after_commit", _on_commit)
event.listen(Session, "after_rollback", _on_rollback)


def authenticate_token(*, token: str) -> Principal:
    """The principal behind a bearer token, or Unauthenticated."""
    token_hash = _cache_key(token)
    if token_hash is None:
        raise Unauthenticated(_("Invalid API token"))
    cached = _token_cache.get(token_hash)
    if cached is not None:
        return cached
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if row is None:
        raise Unauthenticated(_("Invalid API token"))
    api_token, user = row
    now = utcnow()
    if api_token.revoked_at is not None:
        raise Unauthenticated(_("This API token has been revoked"))
    if api_token.expires_at is not None and api_token.expires_at <= now:
        raise Unauthenticated(_("This API token has expired"))
    if not user.active:
        raise Unauthenticated(_("This user is deactivated"))
    principal = principal_for(user, auth="token", token_id=api_token.id)
    expires_at = api_token.expires_at
    _touch(api_token, now)
    _token_cache.put(token_hash, principal, expires_at=expires_at)
    return principal


def cached_principal(token: str) -> Principal | None:
    """The principal of a token `authenticate_token` checked in this process within the last
    TOKEN_CACHE_SECONDS, without the database; None for any other (valid or not)."""
    token_hash = _cache_key(token)
    cached: Principal | None = _token_cache.get(token_hash) if token_hash is not None else None
    return cached


def _cache_key(token: str) -> str | None:
    """A well-formed token's hash (its key in the cache and the database); None for any other."""
    if not token.startswith(f"{TOKEN_SCHEME}_") or len(token) > 200:
        return None
    return hash_token(token)


def _touch(token: ApiToken, now: datetime) -> None:
    last = token.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
