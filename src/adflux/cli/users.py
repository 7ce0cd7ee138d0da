"""Users and API tokens: `adflux users ...` and `adflux tokens ...`."""

from __future__ import annotations

import sys
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import ROLE
from adflux.cli.output import bogota_time, console, page_caption, print_json, print_table

ROLE_LABELS = {"viewer": "lector", "manager": "gestor", "admin": "administrador"}


def _read_password(password_stdin: bool, no_password: bool) -> str | None:
    if no_password:
        return None
    if password_stdin:
        # One line, without its newline: `printf '%s' "$PASSWORD" | adflux users create-admin ...`.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)


def _user_id(cli: CliContext, user: str) -> int:
    """Accept a user id or an e-mail address."""
    if user.isdigit():
        return int(user)
    page = cli.client.get("/users", email=user)
    if not page["items"]:
        raise click.ClickException(_("No user with e-mail %(user)s", user=user))
    return int(page["items"][0]["id"])


@click.group("users")
def users_group() -> None:
    """People who use AdFlux and their roles (viewer < manager < admin)."""


@users_group.command("create-admin")
@click.option("--email", required=True, help=N_("The admin's e-mail (the sign-in name)."))
@click.option("--name", default="", help=N_("Display name."))
@click.option("--password-stdin", is_flag=True, help=N_("Read the password from standard input."))
@click.option("--no-password", is_flag=True, help=N_("No dashboard password: API tokens only."))
@pass_cli
def create_admin(cli: CliContext, email: str, name: str, password_stdin: bool, no_password: bool) -> None:
    """Create an admin (in-process, this works on a database with no users yet)."""
    _create(cli, email=email, name=name, role="admin", password=_read_password(password_stdin, no_password))


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--role", type=ROLE, default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help=N_("Read the password from standard input."))
@click.option("--no-password", is_flag=True, help=N_("No dashboard password: API tokens only."))
@pass_cli
def create(
    cli: CliContext, email: str, name: str, role: str, password_stdin: bool, no_password: bool
) -> None:
    """Create a user with a role."""
    _create(cli, email=email, name=name, role=role, password=_read_password(password_stdin, no_password))


def _create(cli: CliContext, *, email: str, name: str, role: str, password: str | None) -> None:
    body: dict[str, Any] = {"email": email, "name": name, "role": role, "password": password}
    user = cli.client.post("/users", json=body)
    if cli.as_json:
        return print_json(user)
    console.print(
        _(
            "[green]Created[/] %(email)s (id %(id)s, role %(role)s)",
            email=user["email"],
            id=user["id"],
            role=user["role"],
        )
    )


@users_group.command("list")
@click.option("--role", type=ROLE)
@click.option("--active/--inactive", default=None, help=N_("Only active (or deactivated) users."))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=50, show_default=True)
@pass_cli
def list_users(cli: CliContext, **filters: Any) -> None:
    """List users."""
    if filters["active"] is not None:
        filters["active"] = str(filters["active"]).lower()
    page = cli.client.get("/users", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Users"),
        [
            (N_("ID"), "id"),
            (N_("Email"), "email"),
            (N_("Name"), "name"),
            (N_("Role"), lambda r: ROLE_LABELS.get(r["role"], r["role"])),
            (N_("Enabled"), lambda r: _("yes") if r["active"] else _("no")),
            (N_("Last sign-in (Bogotá)"), lambda r: bogota_time(r.get("last_login_at"))),
        ],
        page["items"],
        caption=page_caption(page),
    )


@users_group.command("set-role")
@click.argument("user")
@click.argument("role", type=ROLE)
@pass_cli
def set_role(cli: CliContext, user: str, role: str) -> None:
    """Give USER (id or e-mail) the role ROLE."""
    updated = cli.client.patch(f"/users/{_user_id(cli, user)}", json={"role": role})
    if cli.as_json:
        return print_json(updated)
    console.print(_("%(email)s is now %(role)s", email=updated["email"], role=updated["role"]))


@users_group.command("deactivate")
@click.argument("user")
@pass_cli
def deactivate(cli: CliContext, user: str) -> None:
    """Deactivate USER (id or e-mail): their tokens and sessions stop working at once."""
    updated = cli.client.patch(f"/users/{_user_id(cli, user)}", json={"active": False})
    if cli.as_json:
        return print_json(updated)
    console.print(_("%(email)s is deactivated", email=updated["email"]))


@users_group.command("totp-enable")
@click.argument("user")
@pass_cli
def totp_enable(cli: CliContext, user: str) -> None:
    """Turn on two-step sign-in for USER (id or e-mail); prints the secret once (on this machine)."""
    from adflux.services import totp

    if cli.api_url:
        raise click.ClickException(_("totp-enable runs on the server itself (without --api-url)"))
    user_id = _user_id(cli, user)
    with cli.app.app_context():
        secret, uri = totp.enable_for(user_id=user_id)
    if cli.as_json:
        return print_json({"user_id": user_id, "secret": secret, "otpauth_uri": uri})
    console.print(_("Secret (shown once; add it to an authenticator app): %(secret)s", secret=secret))
    console.print(_("URI: %(uri)s", uri=uri))


@users_group.command("totp-disable")
@click.argument("user")
@pass_cli
def totp_disable(cli: CliContext, user: str) -> None:
    """Turn off two-step sign-in for USER (id or e-mail)."""
    from adflux.services import totp

    if cli.api_url:
        raise click.ClickException(_("totp-disable runs on the server itself (without --api-url)"))
    user_id = _user_id(cli, user)
    with cli.app.app_context():
        totp.disable_for(user_id=user_id)
    console.print(_("Two-step sign-in is off for user %(user_id)s", user_id=user_id))


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for scripts and the remote CLI (--token / ADFLUX_API_TOKEN)."""


@tokens_group.command("create")
@click.option("--name", required=True, help=N_("What the token is for, e.g. 'ci' or 'laptop'."))
@click.option(
    "--user",
    help=N_("Whose token (id or e-mail). Default: yourself with --api-url; on the server, the only admin."),
)
@click.option(
    "--expires-in-days", type=click.IntRange(1, 730), default=90, show_default=True, help=N_("Lifetime.")
)
@pass_cli
def create_token(cli: CliContext, name: str, user: str | None, expires_in_days: int) -> None:
    """Create a token and print it once (it cannot be shown again)."""
    body: dict[str, Any] = {"name": name, "expires_in_days": expires_in_days}
    if user:
        body["user_id"] = _user_id(cli, user)
    elif not cli.api_url:
        body["user_id"] = _only_admin(cli)
    created = cli.client.post("/tokens", json=body)
    if cli.as_json:
        return print_json(created)
    click.echo(created["token"])
    click.echo(
        _(
            "Token %(id)s of user %(user_id)s; expires on %(expires_at)s (Bogotá time). Keep it now: it "
            "is not shown again.",
            id=created["id"],
            user_id=created["user_id"],
            expires_at=bogota_time(created["expires_at"]),
        ),
        err=True,
    )


def _only_admin(cli: CliContext) -> int:
    """On the server the command line is nobody: a token is the only active administrator's."""
    admins = cli.client.get("/users", role="admin", active="true", page_size=2)["items"]
    if len(admins) == 1:
        return int(admins[0]["id"])
    if not admins:
        raise click.ClickException(_("there are no admins: create one with `adflux users create-admin`"))
    raise click.ClickException(_("there are several admins: say whose token it is with --user EMAIL"))


@tokens_group.command("list")
@click.option("--user", help=N_("Only this user's tokens (id or e-mail; admins)."))
@click.option("--include-revoked", is_flag=True)
@pass_cli
def list_tokens(cli: CliContext, user: str | None, include_revoked: bool) -> None:
    """List tokens (masked): your own, or everyone's for admins."""
    params: dict[str, Any] = {"page_size": 200}
    if user:
        params["user_id"] = _user_id(cli, user)
    if include_revoked:
        params["include_revoked"] = "true"
    page = cli.client.get("/tokens", **params)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("API tokens"),
        [
            (N_("ID"), "id"),
            (N_("Name"), "name"),
            (N_("User"), "user_id"),
            (N_("Token"), "masked"),
            (N_("Expires (Bogotá)"), lambda r: bogota_time(r.get("expires_at"))),
            (N_("Last used"), lambda r: bogota_time(r.get("last_used_at"))),
            (N_("Revoked"), lambda r: bogota_time(r.get("revoked_at"))),
        ],
        page["items"],
        caption=page_caption(page),
    )


@tokens_group.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@pass_cli
def revoke_token(cli: CliContext, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    cli.client.request("DELETE", f"/tokens/{token_id}")
    if cli.as_json:
        return print_json({"id": token_id, "revoked": True})
    console.print(_("Token %(token_id)s revoked", token_id=token_id))


def register(group: click.Group) -> None:
    group.add_command(users_group)
    group.add_command(tokens_group)
