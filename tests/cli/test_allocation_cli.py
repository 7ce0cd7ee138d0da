"""`adflux allocation ...` and `adflux forecast`: Spanish output and one-line errors."""

from __future__ import annotations

from factories import make_job
from web.conftest import add_metrics
from web.conftest import sandbox as sandbox  # the simulated platforms, for a published campaign


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


def test_compare_says_why_one_campaign_has_no_interval(cli, app_ctx, sandbox) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from adflux.services import campaigns as campaigns_service
    from adflux.services import local_dates
    from adflux.services.allocation import daily, settings

    campaign = campaigns_service.create_campaign(
        job_id=make_job().id, platforms=["meta", "tiktok"], budget_total=6_000_000, budget_daily=200_000
    )
    campaigns_service.publish_campaign(campaign_id=campaign.id)
    add_metrics(campaign.id, days=14)
    settings.configure(campaign_id=campaign.id, enabled=True, max_move=0.5, explore=0.0)
    yesterday = local_dates.today() - timedelta(days=1)
    assert daily.allocate_campaign(campaign_id=campaign.id, today=yesterday).skipped is None
    shown = cli("allocation", "compare", str(campaign.id))
    assert shown.exit_code == 0, shown.output
    assert "campañas asignadas en conjunto: 1;" in shown.output
    assert "Solo 1 campaña tiene asignación" in shown.output and "sin intervalo" in shown.output
    assert "Reparto parejo" in shown.output and shown.output.count("sin intervalo") == 4  # note + 3 rows
