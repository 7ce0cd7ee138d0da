"""Dashboard sign-in: session login/logout, CSRF for every form, and `login_required(role)`.

The API uses bearer tokens and no cookies, so CSRF does not apply there; everything outside /api/
that changes state (POST, PUT, PATCH, DELETE) must carry the form's CSRF token.
"""

from __future__ import annotations

import logging
import secrets
import time
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from adflux.constants import ROLES
from adflux.error_responses import error_response, wants_json
from adflux.extensions import csrf
from adflux.services import sessions, sign_in
from adflux.services.auth import Principal
from adflux.services.errors import Unauthenticated
from adflux.services.sign_in import TooManyAttempts
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__, template_folder="templates")

SESSION_USER = "user_id"
SESSION_FINGERPRINT = "auth_fp"
SESSION_GENERATION = "auth_gen"
SESSION_OPENED = "auth_at"
SESSION_SEEN = "seen_at"
# A browser that signed in keeps this cookie: its own guesses count on its own key (sign_in_limits).
DEVICE_COOKIE = "adflux_device"
DEVICE_DAYS = 90


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    code = StringField(_l("Verification code (if you use one)"), validators=[Optional(), Length(max=12)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST so other sites cannot sign people out."""


def _stamp() -> sessions.SessionStamp | None:
    values: list[float] = []
    for key in (SESSION_USER, SESSION_GENERATION, SESSION_OPENED, SESSION_SEEN):
        value = session.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None  # signed out, or a session from before sessions carried their times
        values.append(value)
    user_id, generation, opened, seen = values
    fingerprint = str(session.get(SESSION_FINGERPRINT, ""))
    return sessions.SessionStamp(int(user_id), int(generation), fingerprint, float(opened), float(seen))


def current_session_user() -> Principal | None:
    """The signed-in dashboard user, loaded once per request (None when signed out)."""
    if "session_principal" not in g:
        stamp = _stamp()
        principal = None
        if stamp is not None and not sessions.expired(stamp):
            # None when deactivated, deleted, signed out elsewhere or the password/role changed.
            principal = sessions.load_session_user(stamp)
        if principal is None and SESSION_USER in session:
            session.clear()  # ended, expired or from before sessions carried their times: sign in again
        elif (
            principal is not None
            and stamp is not None
            and time.time() - stamp.seen_at > sessions.TOUCH_SECONDS
        ):
            session[SESSION_SEEN] = time.time()
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


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="adflux-trusted-device")


def _trusted_device() -> tuple[int, str] | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        user_id, device_id = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return (int(user_id), str(device_id)) if isinstance(user_id, int) else None


def _open_session(user: Any) -> None:
    # A fresh session on sign-in, so an earlier (possibly planted) session id is not reused.
    session.clear()
    session.permanent = True
    stamp = sessions.new_stamp(user)
    session[SESSION_USER] = stamp.user_id
    session[SESSION_GENERATION] = stamp.generation
    session[SESSION_FINGERPRINT] = stamp.fingerprint
    session[SESSION_OPENED] = stamp.opened_at
    session[SESSION_SEEN] = stamp.seen_at


def _sign_in_message(exc: Unauthenticated) -> str:
    """What the sign-in page says, in the page's language (the same for a wrong e-mail or password)."""
    if isinstance(exc, sign_in.SecondFactorNeeded):
        return _("Enter the current code from your authenticator app.")
    if isinstance(exc, sign_in.SecondFactorNotEnrolled):
        return _(
            "Your role signs in with two-step verification: an admin must turn it on for you first "
            "(adflux users totp-enable)."
        )
    return _("Wrong e-mail or password.")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    """The sign-in form."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        device = _trusted_device()
        try:
            user = sign_in.authenticate_password(
                email=form.email.data or "",
                password=form.password.data or "",
                code=form.code.data or None,
                address=request.remote_addr,
                trusted_device=device,
            )
        except TooManyAttempts as exc:
            form.password.errors = [
                _("Too many failed sign-ins; try again in %(seconds)s s.", seconds=exc.retry_after)
            ]
            page = render_template("auth/login.html", form=form)
            return Response(page, status=429, headers={"Retry-After": str(exc.retry_after)})
        except Unauthenticated as exc:
            field = form.code if isinstance(exc, sign_in.SecondFactorNeeded) else form.password
            field.errors = [_sign_in_message(exc)]
            return render_template("auth/login.html", form=form), exc.status  # type: ignore[return-value]
        _open_session(user)
        logger.info("User %s signed in", user.id)
        response = redirect(_safe_next(form.next.data))
        if device is None or device[0] != user.id:
            token = _device_serializer().dumps([user.id, secrets.token_urlsafe(16)])
            response.set_cookie(
                DEVICE_COOKIE,
                token,
                max_age=DEVICE_DAYS * 86400,
                httponly=True,
                samesite="Lax",
                secure=current_settings().is_production,
            )
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out (POST with the CSRF token): every session of this user ends, copies included."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return Response("Bad request", status=400)
    principal = current_session_user()
    if principal is not None and principal.id is not None:
        sessions.sign_out_everywhere(user_id=principal.id)
    session.clear()
    flash(_("Signed out."))
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
    # Set, not setdefault: Flask already defines this key (31 days), so setdefault did nothing.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=current_settings(app).session_lifetime_hours)
    csrf.init_app(app)
    app.before_request(_csrf_outside_api)
    app.register_blueprint(bp)

    @app.context_processor
    def _signed_in_user() -> dict[str, Any]:
        return {"current_session_user": current_session_user, "logout_form": LogoutForm}
