"""Dashboard sign-in: session login/logout, CSRF for every form, and `login_required(role)`.

The API uses bearer tokens and no cookies, so CSRF does not apply there; everything outside /api/
that changes state (POST, PUT, PATCH, DELETE) must carry the form's CSRF token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from adflux.constants import ROLES
from adflux.error_responses import error_response, wants_json
from adflux.extensions import csrf
from adflux.services import auth as auth_service
from adflux.services.auth import Principal
from adflux.services.errors import Unauthenticated

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__, template_folder="templates")

SESSION_USER = "user_id"
SESSION_FINGERPRINT = "auth_fp"
SESSION_LIFETIME = timedelta(hours=12)


class LoginForm(FlaskForm):
    email = EmailField("Correo electrónico", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Contraseña", validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST so other sites cannot sign people out."""


def current_session_user() -> Principal | None:
    """The signed-in dashboard user, loaded once per request (None when signed out)."""
    if "session_principal" not in g:
        user_id = session.get(SESSION_USER)
        principal = None
        if isinstance(user_id, int):
            principal = auth_service.load_session_user(
                user_id=user_id, fingerprint=session.get(SESSION_FINGERPRINT)
            )
            if principal is None:  # deactivated, deleted or password changed: sign out
                session.clear()
        g.session_principal = principal
    return g.session_principal


def login_required(role: str = "viewer") -> Callable[[F], F]:
    """Dashboard pages: sign-in first (redirect to /login), then at least `role` (else 403)."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_session_user()
            if principal is None:
                if wants_json():
                    return error_response(401, "Sign in first")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not principal.has_role(role):
                raise Forbidden(f"This page needs the {role} role")
            g.current_user = principal  # the audit trail records who acted
            return view(*args, **kwargs)

        wrapper._adflux_login_role = role  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in (open redirect)."""
    fallback = url_for("web.index")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    """The sign-in form."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate_password(
                email=form.email.data or "", password=form.password.data or ""
            )
        except (Unauthenticated, auth_service.TooManyAttempts) as exc:
            form.password.errors = [exc.message]
            return render_template("auth/login.html", form=form), exc.status  # type: ignore[return-value]
        # A fresh session on sign-in, so an earlier (possibly planted) session id is not reused.
        session.clear()
        session.permanent = True
        session[SESSION_USER] = user.id
        session[SESSION_FINGERPRINT] = auth_service.session_fingerprint(user)
        logger.info("User %s signed in", user.id)
        return redirect(_safe_next(form.next.data))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out (POST with the CSRF token)."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return Response("Bad request", status=400)
    session.clear()
    flash("Sesión cerrada.")
    return redirect(url_for("auth.login"))


def _csrf_outside_api() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.path.startswith("/api/"):
        return
    csrf.protect(apply_exemptions=True)


def init_app(app: Flask) -> None:
    """Register /login and /logout, CSRF protection for forms and the session lifetime."""
    # Checked by our own hook so every API blueprint, including future ones, is exempt by path.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", SESSION_LIFETIME)
    csrf.init_app(app)
    app.before_request(_csrf_outside_api)
    app.register_blueprint(bp)

    @app.context_processor
    def _signed_in_user() -> dict[str, Any]:
        return {"current_session_user": current_session_user, "logout_form": LogoutForm}
