"""The CLI's help and Click's own words ("Usage:", "Missing option", "Invalid value") in the
catalogue's language, chosen when they are shown, so `--lang en` and ADFLUX_LANG are followed.

Help texts (docstrings, `help=N_(...)`) stay English on the commands; `format_help` shows them
through the catalogue. Click's own messages come from `gettext` in its modules; they are pointed
at the catalogue once (their English msgids are listed in adflux.cli.click_words, translated there).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.shell_completion
import click.termui
import click.types
import click.utils

from adflux.catalogue import N_, current_locale, translations
from adflux.catalogue import gettext as _
from adflux.cli.choices import LabelledChoice
from adflux.cli.click_words import FILLED_IN

CLICK_MODULES: tuple[ModuleType, ...] = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.shell_completion,
    click.termui,
    click.types,
    click.utils,
)
HELP_ATTRIBUTES = ("help", "short_help", "epilog")
# Click's usage placeholders ("Usage: adflux [OPTIONS] COMMAND [ARGS]..."): attributes, not gettext.
USAGE_WORDS = (N_("[OPTIONS]"), N_("COMMAND [ARGS]..."))
# Placeholders Click makes from a type or an argument's name ("--city TEXT", "CAMPAIGN_ID").
METAVAR_WORDS = {
    "TEXT": N_("TEXT"),
    "INTEGER": N_("INTEGER"),
    "INTEGER RANGE": N_("INTEGER"),
    "FLOAT RANGE": N_("NUMBER"),
    "FILE": N_("FILE"),
    "[%Y-%m-%d]": N_("[YYYY-MM-DD]"),
    "ACCOUNT_ID": N_("ACCOUNT_ID"),
    "CAMPAIGN_ID": N_("CAMPAIGN_ID"),
    "FEED_ID": N_("FEED_ID"),
    "OWNER": N_("OWNER"),
    "PLAYBOOK_ID": N_("PLAYBOOK_ID"),
    "[PLAYBOOK_ID]": N_("[PLAYBOOK_ID]"),
    "RULE_ID": N_("RULE_ID"),
    "TOKEN_ID": N_("TOKEN_ID"),
    "USER": N_("USER"),
    "VERSION": N_("VERSION"),
}


class _Filling(str):
    """A Click message in today's language whose `format` also translates the words Click fills in."""

    def format(self, *args: Any, **kwargs: Any) -> str:
        words = {k: _(v) if isinstance(v, str) and v in FILLED_IN else v for k, v in kwargs.items()}
        return super().format(*args, **words)


def _click_gettext(message: str) -> str:
    return _Filling(translations(current_locale()).gettext(message))


def _click_ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, count)


@contextmanager
def _in_language(command: click.Command, ctx: click.Context) -> Iterator[None]:
    """While `command` is shown: its help, its options' and its subcommands' in the language of now."""
    shown: list[Any] = [command, *command.get_params(ctx)]
    if isinstance(command, click.Group):
        shown += [command.get_command(ctx, name) for name in command.list_commands(ctx)]
    saved: list[tuple[Any, str, Any]] = []
    for item in shown:
        for attribute in HELP_ATTRIBUTES:
            english = getattr(item, attribute, None)
            if isinstance(english, str) and english:
                saved.append((item, attribute, english))
                setattr(item, attribute, _(inspect.cleandoc(english)))
    _values_in_help(command.get_params(ctx), saved)
    _metavars_in_language(command.get_params(ctx), ctx, saved)
    help_option = command.get_help_option(ctx)
    if help_option is not None:  # made once, in the language of that moment
        help_option.help = _("Show this message and exit.")
    try:
        yield
    finally:
        for item, attribute, english in reversed(saved):
            setattr(item, attribute, english)


def _values_in_help(params: list[click.Parameter], saved: list[tuple[Any, str, Any]]) -> None:
    """A long list of choices (its metavar is a word: CATEGORÍA) goes in the option's help, which wraps."""
    for param in params:
        choice = param.type
        if not (isinstance(param, click.Option) and isinstance(choice, LabelledChoice) and choice.is_long()):
            continue
        if not any(item is param and attribute == "help" for item, attribute, _x in saved):
            saved.append((param, "help", param.help))
        values = _("One of: %(labels)s.", labels=", ".join(choice.shown()))
        param.help = f"{param.help} {values}" if param.help else values


def _metavars_in_language(params: list[click.Parameter], ctx: click.Context, saved: list[Any]) -> None:
    for param in params:
        if param.metavar is not None or (isinstance(param, click.Option) and (param.is_flag or param.count)):
            continue
        word = METAVAR_WORDS.get(param.make_metavar(ctx))
        if word is not None:
            saved.append((param, "metavar", None))
            param.metavar = _(word)


class _Translated(click.Command):
    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_(piece) if piece in USAGE_WORDS else piece for piece in super().collect_usage_pieces(ctx)]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _in_language(self, ctx):
            super().format_help(ctx, formatter)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for param in self.params:  # prompts are shown while parsing, after the root's --lang
            english = getattr(param, "english_prompt", None) or getattr(param, "prompt", None)
            if isinstance(english, str) and english:
                param.english_prompt = english  # type: ignore[attr-defined]
                param.prompt = _(english)  # type: ignore[attr-defined]
        return super().parse_args(ctx, args)


_TRANSLATING: dict[str, type[click.Command]] = {}


def _translating(cls: type[click.Command]) -> type[click.Command]:
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key not in _TRANSLATING:
        _TRANSLATING[key] = type(f"Translated{cls.__name__}", (_Translated, cls), {})
    return _TRANSLATING[key]


def speak_the_catalogue(root: click.Command) -> None:
    """Every command under `root` shows its help through the catalogue; so do Click's own messages."""
    for module in CLICK_MODULES:
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]
    pending = [root]
    while pending:
        command = pending.pop()
        if not isinstance(command, _Translated):
            command.__class__ = _translating(type(command))
        if isinstance(command, click.Group):
            pending += list(command.commands.values())
