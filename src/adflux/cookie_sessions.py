"""The dashboard's signed session cookie, without its cost on requests that carry none.

Flask's cookie session builds a new signing serializer (itsdangerous, HMAC key derivation set-up)
on every request before it even looks for the cookie. API calls authenticate with a bearer token
and never send one, yet paid that on each request. This interface looks for the cookie first and
keeps one serializer per secret key (and fallbacks): the same cookies, signed and checked the same
way, the same empty session when there is none.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer


class LeanSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session: serializer built once per key, not read without a cookie."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        try:
            return self._serializers[key]
        except KeyError:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
            return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        if serializer is None:  # pragma: no cover - a secret key was checked above
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            return self.session_class(serializer.loads(value, max_age=max_age))
        except BadSignature:
            return self.session_class()


def init_app(app: Flask) -> None:
    """Serve sessions through `LeanSessionInterface`."""
    app.session_interface = LeanSessionInterface()
