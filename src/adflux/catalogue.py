"""One message catalogue for every face: the dashboard's gettext files (src/adflux/translations).

The dashboard reads them through Flask-Babel; services, the CLI, tasks and e-mails through
`gettext` here, which picks the language the same way everywhere: a dashboard or API request's
own (Flask-Babel's choice, or the request's Accept-Language), else `ADFLUX_LANG` (the CLI's
`--lang` sets it), else Spanish (Colombia). Source strings are English; `es_CO` is the default.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEFAULT_LOCALE = "es_CO"
# What people type (`--lang en`, `ADFLUX_LANG=es`) → the catalogue's locale.
LOCALE_ALIASES = {"es": "es_CO", "es_co": "es_CO", "es-co": "es_CO", "en": "en", "en_us": "en", "en-us": "en"}


def normalise_locale(value: str | None) -> str | None:
    """`es`, `es-CO`, `EN` → a locale the catalogue has; None when it has none for `value`."""
    if not value:
        return None
    return LOCALE_ALIASES.get(value.strip().lower().split(".")[0])


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for `locale` (English: the source strings themselves)."""
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def current_locale() -> str:
    """The language to speak now: the request's, else ADFLUX_LANG, else Spanish (Colombia)."""
    from flask import has_request_context

    if has_request_context():
        from flask import request
        from flask_babel import get_locale

        asked = (
            request.accept_languages.best_match(["es", "en"]) if request.path.startswith("/api/") else None
        )
        if asked:
            return normalise_locale(asked) or DEFAULT_LOCALE
        return normalise_locale(str(get_locale())) or DEFAULT_LOCALE
    return normalise_locale(os.environ.get("ADFLUX_LANG")) or DEFAULT_LOCALE


def gettext(message: str, /, locale: str | None = None, **values: Any) -> str:
    """`message` in the current (or given) language, with `%(name)s` placeholders filled."""
    text = translations(locale or current_locale()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, count: int, /, locale: str | None = None, **values: Any) -> str:
    """The singular or plural form for `count` (available as `%(num)d`)."""
    text = translations(locale or current_locale()).ngettext(singular, plural, count)
    return text % {"num": count, **values}


_ = gettext
