"""`adflux platform-accounts add | set | test`: identifiers set and checked from the shell, and the
connection test read on the sandbox over loopback, answered in Spanish with a non-zero exit on trouble."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from adflux.constants import SANDBOX_ACCOUNTS
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    yield server
    server.stop()


def _add(cli, sandbox, *extra: str):  # type: ignore[no-untyped-def]
    token = SANDBOX_ACCOUNTS["tiktok"]["credentials"]["access_token"]
    return cli(
        "platform-accounts", "add", "--platform", "tiktok", "--name", "TikTok Colombia",
        "--account-id", SANDBOX_ACCOUNTS["tiktok"]["account_id"], "--base-url", sandbox.base_url,
        "--credential", f"access_token={token}", "--sandbox", *extra,
    )  # fmt: skip


def test_add_set_and_test_an_account_from_the_shell(cli, sandbox):
    added = _add(cli, sandbox)
    assert added.exit_code == 0, added.output
    assert added.output.startswith("Cuenta ") and "agregada: TikTok Colombia" in added.output
    account_id = added.output.split()[1]

    missing = cli("platform-accounts", "test", account_id)
    assert missing.exit_code == 1
    assert "Conexión con TikTok: Falta antes de publicar: ID de la identidad." in missing.output
    assert "Credenciales aceptadas: sí" in missing.output and "Moneda: COP" in missing.output

    changed = cli(
        "platform-accounts", "set", account_id, "--id", "identity_id=7000123", "--id", "identity_type=tt_user"
    )
    assert changed.exit_code == 0, changed.output
    assert "identity_id=7000123, identity_type=TT_USER" in changed.output

    ok = cli("platform-accounts", "test", account_id)
    assert ok.exit_code == 0, ok.output
    assert (
        "La conexión con TikTok funciona" in ok.output
        and "Estado de la cuenta: activa (STATUS_ENABLE)" in ok.output
    )
    as_json = cli("--json", "platform-accounts", "test", account_id)
    assert json.loads(as_json.output)["ok"] is True


def test_a_bad_identifier_is_one_line_in_spanish(cli, sandbox):
    result = _add(cli, sandbox, "--id", "identity_type=persona")
    assert result.exit_code != 0 and "Traceback" not in result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: Algunos identificadores de TikTok no son válidos")
    assert "identity_type" in line and "CUSTOMIZED_USER" in line
    malformed = _add(cli, sandbox, "--id", "identity_id")
    assert malformed.exit_code == 2 and "no tiene la forma NOMBRE=VALOR" in malformed.output
