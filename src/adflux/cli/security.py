"""The audit trail and platform-account secrets: `adflux audit`, `adflux platform-accounts ...`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.output import BOGOTA, bogota_time, console, page_caption, print_json, print_table


@click.command("audit")
@click.option("--entity-type", help=N_("e.g. job, campaign, user, api_token, platform_account."))
@click.option("--entity-id")
@click.option("--actor", help=N_("An e-mail, or local:<name> for commands run on the server."))
@click.option("--action", help=N_('Exact, or a prefix ending in * (e.g. "campaign.*").'))
@click.option("--since", help=N_("ISO date or time (Bogotá time unless it says otherwise)."))
@click.option("--until", help=N_("ISO date or time (Bogotá time unless it says otherwise)."))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--cursor", help=N_("Continue after a previous page (its caption shows --cursor)."))
@pass_cli
def audit(cli: CliContext, **filters: Any) -> None:
    """Who changed what and when, newest first (admins)."""
    for bound in ("since", "until"):
        if filters.get(bound):
            filters[bound] = _bogota_iso(filters[bound], bound)
    page = cli.client.get("/audit-events", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Audit"),
        [
            (N_("When (Bogotá)"), lambda r: bogota_time(r["at"])),
            (N_("Who"), "actor"),
            (N_("Action"), "action"),
            (N_("Object"), lambda r: f"{r['entity_type']} {r['entity_id'] or ''}".strip()),
            (N_("Changes"), _changes),
        ],
        page["items"],
        caption=page_caption(page),
    )


def _changes(row: dict[str, Any]) -> str:
    before, after = row.get("before") or {}, row.get("after") or {}
    changed = [key for key in after if before.get(key) != after.get(key)] if before else list(after)
    return ", ".join(changed[:6]) + ("…" if len(changed) > 6 else "")


@click.group("platform-accounts")
def accounts_group() -> None:
    """Ad-platform accounts (credentials are encrypted and never shown)."""


@accounts_group.command("list")
@pass_cli
def list_accounts(cli: CliContext) -> None:
    """List platform accounts with their credentials masked."""
    page = cli.client.get("/platform-accounts", page_size=200)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Platform accounts"),
        [
            (N_("ID"), "id"),
            (N_("Platform"), "platform"),
            (N_("Name"), "name"),
            (N_("Account"), "external_account_id"),
            (N_("Credentials"), lambda r: ", ".join(f"{k}={v}" for k, v in r["credentials_masked"].items())),
            (N_("Status"), "credentials_status"),
            (N_("Active"), lambda r: _("yes") if r["active"] else _("no")),
        ],
        page["items"],
        caption=page_caption(page),
    )


@accounts_group.command("rotate-key")
@pass_cli
def rotate_key(cli: CliContext) -> None:
    """Re-encrypt every account's credentials with the first key of ADFLUX_ENCRYPTION_KEY.

    Rotation: set ADFLUX_ENCRYPTION_KEY="new,old" everywhere, run this on one machine, then drop
    the old key.
    """
    from adflux.services.platform_accounts import rotate_encryption_key

    with cli.app.app_context():
        count = rotate_encryption_key()
    if cli.as_json:
        return print_json({"reencrypted": count})
    console.print(_("Re-encrypted the credentials of %(count)s account(s) with the newest key", count=count))


def register(group: click.Group) -> None:
    from adflux.cli import platform_accounts

    platform_accounts.attach(accounts_group)
    group.add_command(audit)
    group.add_command(accounts_group)


def _bogota_iso(text: str, option: str) -> str:
    """A date or time as typed, in Bogotá unless it names its zone, as the API's ISO time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            _("«%(text)s» is not an ISO date or time (2026-12-06 or 2026-12-06T08:00)", text=text),
            param_hint=f"--{option}",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BOGOTA)
    return moment.isoformat()
