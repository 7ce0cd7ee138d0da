"""`adflux allocation ...` and `adflux forecast`: Spanish output and one-line errors."""

from __future__ import annotations

from factories import make_job


def _campaign(client) -> int:  # type: ignore[no-untyped-def]
    body = {
        "job_id": make_job().id,
        "platforms": ["meta"],
        "budget_total": 3_000_000,
        "budget_daily": 100_000,
    }
    return client.post("/api/v1/campaigns", json=body).get_json()["id"]


def test_switch_allocation_and_read_its_log(cli, client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    campaign_id = _campaign(client)
    shown = cli("allocation", "show", str(campaign_id))
    assert shown.exit_code == 0, shown.output
    assert "asignación apagada" in shown.output and "mínimo por grupo 2 %" in shown.output
    on = cli("allocation", "enable", str(campaign_id), "--max-move", "0.3")
    assert on.exit_code == 0 and "asignación activa" in on.output and "30 %" in on.output
    run = cli("allocation", "run", str(campaign_id))
    assert run.exit_code != 0 and "No se asignó" in run.output and "Traceback" not in run.output
    off = cli("allocation", "disable", str(campaign_id))
    assert "asignación apagada" in off.output
    compare = cli("allocation", "compare", str(campaign_id))
    assert compare.exit_code != 0 and len(compare.output.strip().splitlines()) == 1


def test_forecast_errors_are_one_line(cli, client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    plan = [
        "--category",
        "salud",
        "--city",
        "Cali",
        "--platform",
        "meta",
        "--budget",
        "1000000",
        "--days",
        "10",
    ]
    none = cli("forecast", *plan)
    assert none.exit_code != 0 and "Traceback" not in none.output
    missing = cli("forecast", "--category", "salud")
    assert missing.exit_code != 0 and "--platform" in missing.output
    short = cli("forecast", "train")
    assert short.exit_code != 0 and "Historia insuficiente" in short.output
    assert cli("forecast", "versions").exit_code == 0
