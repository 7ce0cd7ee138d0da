"""`adflux platform-accounts add | set | test`: accounts with their identifiers, and test connection."""

from __future__ import annotations

from typing import Any

import click

from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import LabelledChoice
from adflux.cli.output import console, print_json
from adflux.constants import PLATFORM_LABELS

PLATFORM = LabelledChoice(PLATFORM_LABELS)

IDENTIFIERS_HELP = (
    "Identificador de la plataforma, NOMBRE=VALOR (repetible). Meta: page_id, pixel_id, "
    "instagram_actor_id; Google: login_customer_id, conversion_action_id; TikTok: identity_id, "
    "identity_type, display_name, pixel_code; Snapchat: organization_id, public_profile_id, brand_name, "
    "pixel_id; X: funding_instrument_id, as_user_id, pixel_id, event_tag_id."
)
CREDENTIALS_HELP = (
    "Credencial NOMBRE=VALOR (repetible; se guarda cifrada y reemplaza las guardadas), p. ej. "
    "access_token=…, developer_token=…"
)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"«{text}» no tiene la forma NOMBRE=VALOR", param_hint=option)
        found[key.strip()] = value.strip()
    return found


@click.command("add")
@click.option("--platform", "platform", type=PLATFORM, required=True)
@click.option("--name", required=True, help="Nombre para reconocer la cuenta.")
@click.option("--account-id", required=True, help="ID de la cuenta en la plataforma (act_…, 123-456-7890…).")
@click.option("--id", "identifiers", multiple=True, metavar="NOMBRE=VALOR", help=IDENTIFIERS_HELP)
@click.option("--credential", "credentials", multiple=True, metavar="NOMBRE=VALOR", help=CREDENTIALS_HELP)
@click.option("--base-url", help="Dirección de la API (vacío: la oficial; fuera de producción, loopback).")
@click.option("--priority", type=int, default=0, show_default=True)
@click.option("--sandbox/--real", "is_sandbox", default=False, help="Cuenta de pruebas o real.")
@pass_cli
def add_account(cli: CliContext, **opts: Any) -> None:
    """Agrega una cuenta de plataforma con sus identificadores y credenciales."""
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
    console.print(f"Cuenta {account['id']} agregada: {account['name']} ({account['external_account_id']})")


@click.command("set")
@click.argument("account_id", type=int)
@click.option("--name", help="Nuevo nombre.")
@click.option("--account-id", "external_account_id", help="Nuevo ID de la cuenta en la plataforma.")
@click.option("--id", "identifiers", multiple=True, metavar="NOMBRE=VALOR",
              help=IDENTIFIERS_HELP + " Un valor vacío (NOMBRE=) lo quita.")  # fmt: skip
@click.option("--credential", "credentials", multiple=True, metavar="NOMBRE=VALOR", help=CREDENTIALS_HELP)
@pass_cli
def set_account(cli: CliContext, account_id: int, **opts: Any) -> None:
    """Cambia el nombre, el ID, los identificadores o las credenciales de una cuenta."""
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
        raise click.UsageError("Nada que cambiar: use --name, --account-id, --id o --credential")
    account = cli.client.patch(f"/platform-accounts/{account_id}", json=body)
    if cli.as_json:
        return print_json(account)
    ids = ", ".join(f"{k}={v}" for k, v in (account.get("identifiers") or {}).items()) or "ninguno"
    console.print(f"Cuenta {account['id']} guardada. Identificadores: {ids}")


@click.command("test")
@click.argument("account_id", type=int)
@pass_cli
def test_account(cli: CliContext, account_id: int) -> None:
    """Prueba la conexión: una lectura de la cuenta en la plataforma, con lo que falta en palabras."""
    result = cli.client.post(f"/platform-accounts/{account_id}/test")
    if cli.as_json:
        print_json(result)
    else:
        _show(result)
    if not result["ok"]:
        raise SystemExit(1)


def _yes_no(value: bool | None) -> str:
    return "sin probar" if value is None else ("sí" if value else "no")


def _show(result: dict[str, Any]) -> None:
    console.print(result["summary"])
    console.print(f"  Plataforma alcanzable: {_yes_no(result['reachable'])}")
    console.print(f"  Credenciales aceptadas: {_yes_no(result['auth_ok'])}")
    if result.get("status_label"):
        console.print(f"  Estado de la cuenta: {result['status_label']} ({result['raw_status']})")
        console.print(f"  Moneda: {result['currency'] or '?'} · Zona horaria: {result['timezone'] or '?'}")
    for line in result["problems"][1:] if not result["ok"] else []:
        console.print(f"  ✗ {line}")
    for line in result["warnings"]:
        console.print(f"  ! {line}")


def attach(group: click.Group) -> None:
    """Adds these commands to the `platform-accounts` group."""
    for command in (add_account, set_account, test_account):
        group.add_command(command)
