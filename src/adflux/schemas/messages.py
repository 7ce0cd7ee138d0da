"""Marshmallow's own messages ("Missing data for required field.", "Not a valid integer.") in the
catalogue's language: that of the request (Accept-Language) or of the CLI (`--lang`, ADFLUX_LANG).

Marshmallow formats a message when it raises it (`message.format(input=..., min=...)`): its
messages are replaced, once, by `Deferred` texts whose `format` first translates them. Messages
it never formats ("Unknown field.") reach the error handlers as `Deferred` and are said there
(`said`). The English msgids are listed below so the catalogue holds their translations.
"""

from __future__ import annotations

import inspect
from typing import Any

from marshmallow import Schema, fields, validate

from adflux.catalogue import N_
from adflux.catalogue import gettext as _

MARSHMALLOW_MESSAGES = (
    N_('"{input}" cannot be formatted as a date.'),
    N_('"{input}" cannot be formatted as a {obj_type}.'),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid input."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Length must be between {min} and {max}."),
    N_("Length must be {equal}."),
    N_("Longer than maximum length {max}."),
    N_("Missing data for required field."),
    N_("Must be equal to {other}."),
    N_("Must be one of: {choices}."),
    N_("Must be {max_op} {{max}}."),
    N_("Must be {min_op} {{min}} and {max_op} {{max}}."),
    N_("Must be {min_op} {{min}}."),
    N_("Not a valid IP address."),
    N_("Not a valid IP interface."),
    N_("Not a valid IPv4 address."),
    N_("Not a valid IPv4 interface."),
    N_("Not a valid IPv6 address."),
    N_("Not a valid IPv6 interface."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid email address."),
    N_("Not a valid integer."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid number."),
    N_("Not a valid period of time."),
    N_("Not a valid string."),
    N_("Not a valid tuple."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid {awareness} {obj_type}."),
    N_("Not a valid {obj_type}."),
    N_("Number too large."),
    N_("One or more of the choices you made was in: {values}."),
    N_("One or more of the choices you made was not in: {choices}."),
    N_("Shorter than minimum length {min}."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."),
    N_("Unknown field."),
    N_("greater than"),
    N_("greater than or equal to"),
    N_("less than"),
    N_("less than or equal to"),
    N_("{input!r} cannot be formatted as a timedelta."),
)
# Words marshmallow puts into its messages (`obj_type`, `awareness`).
FILLED_IN = {N_("datetime"), N_("date"), N_("time"), N_("naive"), N_("aware")}


class Deferred(str):
    """An English message that speaks the language of the moment it is formatted (or said)."""

    filled: dict[str, Any]

    def __new__(cls, message: str, filled: dict[str, Any] | None = None) -> Deferred:
        text = super().__new__(cls, message)
        text.filled = filled or {}
        return text

    def format(self, *args: Any, **kwargs: Any) -> str:
        if kwargs and not args and all(isinstance(v, Deferred) for v in kwargs.values()):
            # Range fills in its operators ("greater than") when it is made: keep them for later.
            return Deferred(str(self), {**self.filled, **kwargs})
        text = _(str(self))
        if self.filled:
            text = text.format(**{k: _(str(v)) for k, v in self.filled.items()})
        words = {k: _(v) if isinstance(v, str) and v in FILLED_IN else v for k, v in kwargs.items()}
        return text.format(*args, **words)


def said(messages: Any) -> Any:
    """Validation messages (nested dicts and lists) with every Deferred one in today's language."""
    if isinstance(messages, Deferred):
        return _(str(messages))
    if isinstance(messages, dict):
        return {key: said(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [said(value) for value in messages]
    return messages


def _deferred(messages: dict[str, str]) -> dict[str, str]:
    return {key: Deferred(message) for key, message in messages.items()}


def speak_the_catalogue() -> None:
    """Replace marshmallow's messages by Deferred ones (once; fields made later take them)."""
    for _name, cls in inspect.getmembers(fields, inspect.isclass):  # every field class
        own = cls.__dict__.get("default_error_messages")
        if own and not all(isinstance(m, Deferred) for m in own.values()):
            cls.default_error_messages = _deferred(own)  # type: ignore[attr-defined]
    Schema._default_error_messages = _deferred(Schema._default_error_messages)
    for _name, cls in inspect.getmembers(validate, inspect.isclass):
        for attribute, message in list(cls.__dict__.items()):
            if (attribute.startswith("message") or attribute == "default_message") and isinstance(
                message, str
            ):
                setattr(cls, attribute, Deferred(message))


speak_the_catalogue()
