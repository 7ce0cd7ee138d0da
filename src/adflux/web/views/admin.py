"""Admin pages: users (invite, role, deactivate) and API tokens (created once-shown, revoked)."""

from __future__ import annotations

import logging
import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import ROLES
from adflux.services import auth as auth_service
from adflux.services.errors import Conflict, DomainError, NotFound
from adflux.web.auth import current_session_user, login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

logger = logging.getLogger(__name__)

ROLE_LABELS = {"viewer": "Viewer", "manager": "Manager", "admin": "Administrator"}
TOKEN_DAYS = (30, 90, 365)


@bp.get("/admin/users")
@login_required("admin")
def admin_users() -> str:
    """Every user with their role and state, and the invitation form."""
    return _users_page()


def _users_page(invited: tuple[str, str] | None = None) -> str:
    # A one-time secret is rendered into the answer to the POST, never put in the (cookie) session.
    page = auth_service.list_users(page=page_number(), page_size=PAGE_SIZE)
    return render_template(
        "admin/users.html",
        page=page,
        roles=ROLES,
        role_labels={k: _(v) for k, v in ROLE_LABELS.items()},
        me=current_session_user(),
        invited=invited,
    )


@bp.post("/admin/users")
@login_required("admin")
def admin_user_invite() -> BaseResponse | str:
    """Invite a person: a user with a one-time password shown once to the admin."""
    email = (request.form.get("email") or "").strip()
    role = request.form.get("role") or "viewer"
    name = (request.form.get("name") or "").strip()[:120]
    if "@" not in email or len(email) > 254 or role not in ROLES:
        flash(_("Write a valid e-mail and choose a role."), "error")
        return redirect(url_for("web.admin_users"))
    password = secrets.token_urlsafe(12)
    try:
        auth_service.create_user(email=email, role=role, name=name, password=password)
    except Conflict:
        flash(_("A user with that e-mail already exists."), "error")
    except DomainError as exc:
        flash(_("Could not invite: %(reason)s", reason=exc.message), "error")
    else:
        return _users_page(invited=(email, password))
    return redirect(url_for("web.admin_users"))


@bp.post("/admin/users/<int:user_id>")
@login_required("admin")
def admin_user_update(user_id: int) -> BaseResponse:
    """Change a user's role, or deactivate / reactivate them."""
    changes: dict[str, object] = {}
    if "role" in request.form:
        if request.form["role"] not in ROLES:
            abort(400)
        changes["role"] = request.form["role"]
    if "active" in request.form:
        changes["active"] = request.form["active"] == "1"
    if not changes:
        abort(400)
    try:
        user = auth_service.update_user(user_id=user_id, changes=changes, actor=current_session_user())
    except NotFound:
        abort(404)
    except Conflict as exc:
        reason = {
            "This is the last active admin; make another admin first": _(
                "This is the last active administrator; make another one first."
            ),
            "You cannot deactivate yourself": _("You cannot deactivate yourself."),
        }.get(exc.message, exc.message)
        flash(reason, "error")
    else:
        flash(_("Saved: %(email)s.", email=user.email), "success")
    return redirect(url_for("web.admin_users"))


@bp.get("/admin/tokens")
@login_required("admin")
def admin_tokens() -> str:
    """Every live API token (never its secret), and the form to create one."""
    return _tokens_page()


def _tokens_page(issued: auth_service.IssuedToken | None = None) -> str:
    principal = current_session_user()
    assert principal is not None  # login_required
    page = auth_service.list_tokens(actor=principal, page=page_number(), page_size=PAGE_SIZE)
    users = auth_service.list_users(active=True, page_size=500).items
    return render_template("admin/tokens.html", page=page, users=users, token_days=TOKEN_DAYS, issued=issued)


@bp.post("/admin/tokens")
@login_required("admin")
def admin_token_create() -> BaseResponse | str:
    """A new token; its secret is shown once, on the next page, and never stored."""
    principal = current_session_user()
    user_id = request.form.get("user_id", type=int)
    days = request.form.get("expires_in_days", type=int)
    name = (request.form.get("name") or "").strip()[:120]
    if not user_id or not name or days not in TOKEN_DAYS:
        flash(_("Choose a person, a name and how long the token lasts."), "error")
        return redirect(url_for("web.admin_tokens"))
    try:
        issued = auth_service.issue_token(user_id=user_id, name=name, expires_in_days=days, actor=principal)
    except NotFound:
        flash(_("That person does not exist."), "error")
    except DomainError as exc:
        flash(_("Could not create the token: %(reason)s", reason=exc.message), "error")
    else:
        return _tokens_page(issued)
    return redirect(url_for("web.admin_tokens"))


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required("admin")
def admin_token_revoke(token_id: int) -> BaseResponse:
    """Revoke a token at once."""
    principal = current_session_user()
    assert principal is not None
    try:
        token = auth_service.revoke_token(token_id=token_id, actor=principal)
    except NotFound:
        abort(404)
    flash(_("Token %(prefix)s revoked.", prefix=token.prefix), "success")
    return redirect(url_for("web.admin_tokens"))
