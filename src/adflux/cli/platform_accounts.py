"""`adflux platform-accounts add | set | test`: accounts with their identifiers, and test connection."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import LabelledChoice
from adflux.cli.output import console, print_json
from adflux.constants import PLATFORM_LABELS

PLATFORM = LabelledChoice(PLATFORM_LABELS, metavar=N_("PLATFORM"))

IDENTIFIERS_HELP = N_(
    "Platform identifier, NAME=VALUE (repeatable). Meta: page_id, pixel_id, "
    "instagram_actor_id; Google: login_customer_id, conversion_action_id; TikTok: identity_id, "
    "identity_type, display_name, pixel_code; Snapchat: organization_id, public_profile_id, brand_name, "
    "pixel_id; X: funding_instrument_id, as_user_id, pixel_id, event_tag_id."
)
CREDENTIALS_HELP = N_(
    "Credential NAME=VALUE (repeatable; stored encrypted, replacing the stored ones), e.g. "
    "access_token=…, developer_token=…"
)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                _("«%(text)s» is not of the form NAME=VALUE", text=text), param_hint=option
            )
        found[key.strip()] = value.strip()
    return found


@click.command("add")
@click.option("--platform", "platform", type=PLATFORM, required=True)
@click.option("--name", required=True, help=N_("A name to recognise the account by."))
@click.option(
    "--account-id", required=True, help=N_("The account's ID on the platform (act_…, 123-456-7890…).")
)
@click.option("--id", "identifiers", multiple=True, metavar="NOMBRE=VALOR", help=IDENTIFIERS_HELP)
@click.option("--credential", "credentials", multiple=True, metavar="NOMBRE=VALOR", help=CREDENTIALS_HELP)
@click.option("--base-url", help=N_("API address (empty: the official one; outside production, loopback)."))
@click.option("--priority", type=int, default=0, show_default=True)
@click.option("--sandbox/--real", "is_sandbox", default=False, help=N_("Test or live account."))
@pass_cli
def add_account(cli: CliContext, **opts: Any) -> None:
    """Add a platform account with its identifiers and credentials."""
    body: dict[str, Any] = {
        "platform": opts["platform"],
        "name": opts["name"],
        "external_account_id": opts["account_id"],
        "identifiers": _pairs(opts["identifiers"], "--id"),
        "priority": opts["priority"],
        "is_sandbox": opts["is_sandbox"],
    }
    if opts["credentials"]:
        body["credentials"] = _pairs(opts["credentials"], "--credential")
    if opts["base_url"]:
        body["base_url"] = opts["base_url"]
    account = cli.client.post("/platform-accounts", json=body)
    if cli.as_json:
        return print_json(account)
    console.print(
        _(
            "Account %(id)s added: %(name)s (%(external_account_id)s)",
            id=account["id"],
            name=account["name"],
            external_account_id=account["external_account_id"],
        )
    )


@click.command("set")
@click.argument("account_id", type=int)
@click.option("--name", help=N_("New name."))
@click.option("--account-id", "external_account_id", help=N_("New ID of the account on the platform."))
@click.option("--id", "identifiers", multiple=True, metavar="NOMBRE=VALOR",
              help=N_(
                  "Platform identifier, NAME=VALUE (repeatable); an empty value (NAME=) removes it. "
                  "The names are those of `adflux platform-accounts add --help`."
              ))  # fmt: skip
@click.option("--credential", "credentials", multiple=True, metavar="NOMBRE=VALOR", help=CREDENTIALS_HELP)
@pass_cli
def set_account(cli: CliContext, account_id: int, **opts: Any) -> None:
    """Change an account's name, ID, identifiers or credentials."""
    body: dict[str, Any] = {}
    if opts["name"]:
        body["name"] = opts["name"]
    if opts["external_account_id"]:
        body["external_account_id"] = opts["external_account_id"]
    if opts["identifiers"]:
        body["identifiers"] = _pairs(opts["identifiers"], "--id")
    if opts["credentials"]:
        body["credentials"] = _pairs(opts["credentials"], "--credential")
    if not body:
        raise click.UsageError(_("Nothing to change: use --name, --account-id, --id or --credential"))
    account = cli.client.patch(f"/platform-accounts/{account_id}", json=body)
    if cli.as_json:
        return print_json(account)
    ids = ", ".join(f"{k}={v}" for k, v in (account.get("identifiers") or {}).items()) or "ninguno"
    console.print(_("Account %(id)s saved. Identifiers: %(ids)s", id=account["id"], ids=ids))


@click.command("test")
@click.argument("account_id", type=int)
@pass_cli
def test_account(cli: CliContext, account_id: int) -> None:
    """Test the connection: one read of the account on the platform, with what is missing in words."""
    result = cli.client.post(f"/platform-accounts/{account_id}/test")
    if cli.as_json:
        print_json(result)
    else:
        _show(result)
    if not result["ok"]:
        raise SystemExit(1)


def _yes_no(value: bool | None) -> str:
    return _("not tested") if value is None else (_("yes") if value else _("no"))


def _show(result: dict[str, Any]) -> None:
    console.print(result["summary"])
    console.print(_("  Platform reachable: %(reachable)s", reachable=_yes_no(result["reachable"])))
    console.print(_("  Credentials accepted: %(auth_ok)s", auth_ok=_yes_no(result["auth_ok"])))
    if result.get("status_label"):
        console.print(
            _(
                "  Account status: %(status_label)s (%(raw_status)s)",
                status_label=result["status_label"],
                raw_status=result["raw_status"],
            )
        )
        console.print(
            _(
                "  Currency: %(value)s · Time zone: %(value2)s",
                value=result["currency"] or "?",
                value2=result["timezone"] or "?",
            )
        )
    for line in result["problems"][1:] if not result["ok"] else []:
        console.print(f"  ✗ {line}")
    for line in result["warnings"]:
        console.print(f"  ! {line}")


def attach(group: click.Group) -> None:
    """Adds these commands to the `platform-accounts` group."""
    for command in (add_account, set_account, test_account):
        group.add_command(command)
