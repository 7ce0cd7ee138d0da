"""Languages of the dashboard: Spanish (Colombia) by default, English on request, via Flask-Babel."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from flask_babel import Babel

from adflux.settings import current_settings

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
# Locale code → the name shown in the switch (each in its own language).
LANGUAGES: dict[str, str] = {"es_CO": "Español", "en": "English"}
SESSION_KEY = "locale"

babel = Babel()


def select_locale() -> str:
    """The signed-in person's choice (kept in the session), else the configured default."""
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def html_lang(locale: str) -> str:
    """The BCP 47 tag for <html lang> (es_CO → es-CO)."""
    return locale.replace("_", "-")


def same_site_path(target: str | None, fallback: str) -> str:
    """`target` when it is a path on this site, else `fallback` (never redirect off-site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return fallback
    return target


def remember_locale(locale: str) -> bool:
    """Store the chosen language in the session; False when it is not one we offer."""
    if locale not in LANGUAGES:
        return False
    session[SESSION_KEY] = locale
    return True


def init_app(app: Flask) -> None:
    """Configure Flask-Babel from the settings (default locale and display time zone)."""
    settings = current_settings(app)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", settings.default_locale)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.timezone)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)


def current_path() -> str:
    """This request's path and query, for links that come back here."""
    return request.full_path.rstrip("?") if request.query_string else request.path
