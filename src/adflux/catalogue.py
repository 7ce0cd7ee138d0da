"""One message catalogue for every face: the dashboard's gettext files (src/adflux/translations).

The dashboard reads them through Flask-Babel; services, the CLI, tasks and e-mails through
`gettext` here, which picks the language the same way everywhere: a dashboard or API request's
own (Flask-Babel's choice, or the request's Accept-Language), else `ADFLUX_LANG` (the CLI's
`--lang` sets it), else Spanish (Colombia). Source strings are English; `es_CO` is the default.
"""

from __future__ import annotations

import ast
import io
import os
from collections.abc import Iterator
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
    """The language to speak now: the request's, else ADFLUX_LANG, else Spanish (Colombia).

    Marshmallow's messages come here too (adflux.schemas.messages): in a request of another app in
    this process (the embedded platform sandbox) they stay English, as the platforms answer."""
    from flask import has_request_context

    if has_request_context():
        from flask import current_app, request
        from flask_babel import get_locale

        if "babel" not in current_app.extensions:
            return "en"  # another app in this process (the platform sandbox) speaks as the platforms do

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


class Message(str):
    """A translated text that remembers its msgid and values, so it can be said again later in
    another language (an alert is evaluated once and read by people of either language)."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, text: str, msgid: str, values: dict[str, Any]) -> Message:
        said = super().__new__(cls, text)
        said.msgid, said.values = msgid, values
        return said

    def stored(self) -> dict[str, Any]:
        """What to keep (JSON): the msgid and the values, a value that is a Message kept the same way."""
        values = {k: v.stored() if isinstance(v, Message) else _plain(v) for k, v in self.values.items()}
        return {"msgid": self.msgid, "values": values}


def message(msgid: str, /, **values: Any) -> Message:
    """`gettext`, remembering how to say it again: see `Message` and `restore`."""
    return Message(gettext(msgid, **values), msgid, values)


def restore(stored: Any, fallback: str, /, locale: str | None = None) -> str:
    """A `Message.stored()` said in the current (or given) language; `fallback` when it is not one
    (stored by an older version) or no longer fits the catalogue (a msgid or placeholder changed)."""
    if not isinstance(stored, dict) or not isinstance(stored.get("msgid"), str):
        return fallback
    values = stored.get("values")
    if not isinstance(values, dict):
        return fallback
    said = {k: restore(v, str(v), locale) if isinstance(v, dict) else v for k, v in values.items()}
    text = translations(locale or current_locale()).gettext(stored["msgid"])
    try:
        return text % said if said or "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return fallback


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def N_(message: str, /) -> str:
    """Marks `message` for the catalogue without translating it yet (help texts, tables of texts):
    whatever shows it later puts it through `gettext`, in the language of that moment."""
    return message


def extract_command_help(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:
    """pybabel extractor for the CLI: the usual Python messages, plus each click command's docstring
    (click shows it as the command's help, through the catalogue: see adflux.cli.language)."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_command(d) for d in node.decorator_list):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, None, doc, []


def _is_command(decorator: ast.expr) -> bool:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr in ("command", "group")
