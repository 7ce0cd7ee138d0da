"""Database administration: migrations."""

from __future__ import annotations

import click

from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.output import console


@click.group("db")
def db_group() -> None:
    """Database schema and maintenance."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_cli
def upgrade(cli: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION (creates the database schema on first run)."""
    from adflux.services.database import upgrade_database

    with cli.app.app_context():
        current = upgrade_database(revision=revision)
    console.print(_("Database at revision [bold]%(current)s[/]", current=current))


@db_group.command("current")
@pass_cli
def current(cli: CliContext) -> None:
    """Show the database's migration revision."""
    from adflux.services.database import current_revision

    with cli.app.app_context():
        console.print(current_revision() or "(empty database)")


def register(group: click.Group) -> None:
    group.add_command(db_group)
