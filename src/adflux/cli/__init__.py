"""The `adflux` command line: one click group, one module per area."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from adflux.catalogue import LOCALE_ALIASES, N_, normalise_locale
from adflux.catalogue import gettext as _
from adflux.cli.client import ApiClient, ApiError
from adflux.cli.language import speak_the_catalogue
from adflux.services.errors import DomainError
from adflux.settings import Settings, SettingsError

# Called once the CLI has imported what it needs (the app built, or the remote client made): the
# `adflux` console script (`adflux.command_line`) sets it to let its garbage collector settle.
after_start: Callable[[], None] | None = None


def _started() -> None:
    global after_start
    hook, after_start = after_start, None
    if hook is not None:
        hook()


@dataclass
class CliContext:
    """What every command needs: settings, the app (lazily) and the API client."""

    api_url: str | None
    token: str | None
    as_json: bool
    _app: Flask | None = field(default=None, repr=False)
    _client: ApiClient | None = field(default=None, repr=False)

    @property
    def has_app(self) -> bool:
        """True once the in-process app is built (or was handed in)."""
        return self._app is not None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from adflux.app import create_app

            settings = Settings.from_env()
            if not self.api_url and not settings.log_file:
                # In-process, the server's logs would interleave with the output: keep them in a file.
                settings = settings.replace(log_file=str(Path(settings.instance_path) / "adflux.log"))
            self._app = create_app(settings)
            _started()
        return self._app

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            if self.api_url:
                self._client = ApiClient(base_url=self.api_url, token=self.token)
                _started()
            else:
                self._client = ApiClient(app=self.app, token=self.token)
        return self._client


pass_cli = click.make_pass_decorator(CliContext)


def _json_first(args: list[str]) -> list[str]:
    end = args.index("--") if "--" in args else len(args)
    if "--json" not in args[:end]:
        return args
    rest = [arg for arg in args[:end] if arg != "--json"]
    return ["--json", *rest, *args[end:]]


def _language_first(args: list[str]) -> list[str]:
    """Move every `--lang X` / `--lang=X` (before a `--`) to the front: the language is chosen before
    anything speaks, `--help` included, wherever it was typed (`adflux view-jobs --help --lang en`)."""
    end = args.index("--") if "--" in args else len(args)
    chosen: list[str] = []
    rest: list[str] = []
    i = 0
    while i < end:
        arg = args[i]
        if arg == "--lang" and i + 1 < end:
            chosen = [arg, args[i + 1]]
            i += 2
            continue
        if arg.startswith("--lang="):
            chosen = [arg]
        else:
            rest.append(arg)
        i += 1
    return [*chosen, *rest, *args[end:]] if chosen else args


class AdfluxGroup(click.Group):
    """Turns every expected failure into a one-line message and a non-zero exit code.

    `--json` and `--lang` are the group's options but people type them after the verb too
    (`adflux view-jobs --json`, `adflux view-jobs --help --lang en`): wherever they stand (before a
    `--`), they are moved to the front, `--lang` first so even the help speaks the language asked for.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = _json_first(_language_first(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            raise click.ClickException(exc.one_line()) from None
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        except SettingsError as exc:
            raise click.ClickException(_("configuration: %(error)s", error=exc)) from None
        except DatabaseUnavailable as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(_("database unavailable: %(reason)s", reason=reason)) from None


def _show_version(ctx: click.Context, asked: bool) -> None:
    if asked and not ctx.resilient_parsing:
        click.echo(
            _(
                "%(prog)s, version %(version)s",
                prog=ctx.find_root().info_name,
                version=package_version("adflux"),
            )
        )
        ctx.exit()


def _set_language(lang: str | None) -> str | None:
    if lang:
        # One setting for every message: the catalogue, and the API through Accept-Language.
        os.environ["ADFLUX_LANG"] = normalise_locale(lang) or "es_CO"
    return lang


@click.group(cls=AdfluxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--api-url", envvar="ADFLUX_API_URL", help=N_("Use a remote AdFlux server instead of in-process.")
)
@click.option("--token", envvar="ADFLUX_API_TOKEN", help=N_("API token for the server."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON for scripts instead of tables."))
@click.option(
    "--lang",
    envvar="ADFLUX_LANG",
    type=click.Choice(sorted(LOCALE_ALIASES), case_sensitive=False),
    help=N_("Language of messages: es (Spanish, the default) or en."),
    is_eager=True,  # before --help, so the help is in the language asked for
    callback=lambda _ctx, _param, lang: _set_language(lang),
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=lambda ctx, _param, asked: _show_version(ctx, asked),
    help=N_("Show the version and exit."),
)
@click.pass_context
def main(ctx: click.Context, api_url: str | None, token: str | None, as_json: bool, lang: str | None) -> None:
    """AdFlux: advertise job openings on Meta, Google Ads, X, TikTok and Snapchat."""
    if isinstance(ctx.obj, CliContext):  # tests hand in a context bound to their app
        ctx.obj.api_url, ctx.obj.token, ctx.obj.as_json = api_url, token, as_json
    else:
        ctx.obj = CliContext(api_url=api_url, token=token, as_json=as_json)


def _register() -> None:
    from adflux.cli import (
        allocation,
        automation,
        campaign_changes,
        campaigns,
        data,
        db,
        demo,
        jobs,
        ops,
        reports,
        rules,
        sandbox,
        security,
        segments,
        serve,
        tracking,
        users,
    )

    for module in (
        jobs,
        data,
        db,
        serve,
        campaigns,
        campaign_changes,
        users,
        reports,
        demo,
        ops,
        sandbox,
        segments,
        security,
        automation,
        rules,
        allocation,
        tracking,
    ):
        module.register(main)
    speak_the_catalogue(main)


_register()
