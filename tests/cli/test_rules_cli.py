"""`adflux rules ...` and `adflux pacing`: Spanish output, one-line errors, and the sandbox's --scenario."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adflux.cli import main
from factories import make_job, make_segments


def _campaign(client) -> int:  # type: ignore[no-untyped-def]
    job = make_job()
    body = {
        "job_id": job.id,
        "platforms": ["meta"],
        "budget_total": 3_000_000,
        "budget_daily": 100_000,
        "target_cpa": 15_000,
        "segment_ids": [s.id for s in make_segments(1)],
    }
    return client.post("/api/v1/campaigns", json=body).get_json()["id"]


def test_add_list_enable_disable_a_rule_in_spanish(cli, client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    campaign_id = _campaign(client)
    added = cli(
        "rules", "add", "--name", "Stop-loss", "--campaign", str(campaign_id), "--template", "stop_loss"
    )
    assert added.exit_code == 0, added.output
    assert "CPA > $ 22.500 (7 días)" in added.output and "Pausar" in added.output
    assert "inactiva" in added.output
    listed = cli("rules", "list")
    assert "Stop-loss" in listed.output and "con rezago corregido" in listed.output
    assert "activada" in cli("rules", "enable", "1").output
    assert "desactivada" in cli("rules", "disable", "1").output
    pacing = cli("pacing", str(campaign_id), "--mode", "front_loaded")
    assert pacing.exit_code == 0 and "concentrado al inicio" in pacing.output
    assert "Presupuesto diario de hoy: $ " in pacing.output


def test_bad_rules_are_one_line_errors(cli, client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    bad_json = cli("rules", "add", "--name", "x", "--spec", "{nope")
    assert bad_json.exit_code != 0 and "--spec no es JSON" in bad_json.output
    spec = json.dumps(
        {"conditions": [{"metric": "roas", "op": ">", "value": 1}], "action": {"kind": "pause"}}
    )
    bad_metric = cli("rules", "add", "--name", "x", "--spec", spec)
    assert bad_metric.exit_code != 0 and "Traceback" not in bad_metric.output
    missing = cli("rules", "backtest", "99", "--campaign", "1")
    assert missing.exit_code != 0 and len(missing.output.strip().splitlines()) == 1


def test_sandbox_refuses_a_malformed_scenario_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x"}')
    result = CliRunner().invoke(main, ["sandbox", "--scenario", str(path)])
    assert result.exit_code != 0
    assert "platforms must have one entry" in result.output and "Traceback" not in result.output
