"""`adflux update-campaign`: change a live campaign's budget, end date, weights or segments in place."""

from __future__ import annotations

from typing import Any

import click

from adflux.cli import CliContext, pass_cli
from adflux.cli.campaigns import _weights, show_campaign
from adflux.cli.output import console, print_json


@click.command("update-campaign")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--budget", "budget_total", type=click.IntRange(min=1), help="Nuevo presupuesto total, COP.")
@click.option(
    "--daily-budget", "budget_daily", type=click.IntRange(min=1), help="Nuevo presupuesto diario, COP."
)
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), help="Nueva fecha de fin, AAAA-MM-DD.")
@click.option("--target-cpa", type=click.IntRange(min=1), help="Nuevo costo objetivo por postulación, COP.")
@click.option("--weights", help="Pesos del presupuesto por plataforma, p. ej. meta=2,google=1.")
@click.option("--add-segments", help="Segmentos que se agregan, por id: 3,5 (un grupo de anuncios nuevo).")
@click.option("--remove-segments", help="Segmentos que se quitan, por id: 2 (sus grupos se pausan).")
@pass_cli
def update_campaign(cli: CliContext, campaign_id: int, **opts: Any) -> None:
    """Cambia una campaña publicada y lo aplica en cada plataforma sin reemplazarla."""
    body: dict[str, Any] = {
        key: opts[key] for key in ("budget_total", "budget_daily", "target_cpa") if opts[key] is not None
    }
    if opts["end_date"]:
        body["end_date"] = opts["end_date"].date().isoformat()
    weights = _weights(opts["weights"])
    if weights:
        body["platform_weights"] = weights
    for option, key in (("add_segments", "add_segment_ids"), ("remove_segments", "remove_segment_ids")):
        if opts[option]:
            body[key] = _ids(opts[option], option)
    if not body:
        raise click.UsageError(
            "Indique al menos un cambio: --budget, --daily-budget, --end-date, --target-cpa, --weights, "
            "--add-segments o --remove-segments"
        )
    result = cli.client.patch(f"/campaigns/{campaign_id}", json=body)
    campaign = cli.client.get(f"/campaigns/{campaign_id}")
    if cli.as_json:
        print_json({"change": result, "campaign": campaign})
        return
    if result["unchanged"]:
        console.print(f"La campaña {campaign_id} ya tenía esos valores: no se envió nada a las plataformas.")
    else:
        platforms = ", ".join(sorted(result["queued"])) or "ninguna (aún no publicada)"
        console.print(f"Campaña {campaign_id} cambiada; actualización enviada a: {platforms}")
    show_campaign(campaign)
    failed = [pc["platform"] for pc in campaign["platform_campaigns"] if pc.get("update_status") == "failed"]
    if failed:
        console.print(f"[red]La actualización falló en: {', '.join(failed)}[/]")
        raise SystemExit(1)


def _ids(text: str, option: str) -> list[int]:
    """``3,5`` -> [3, 5]; anything else is a one-line usage error."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        flag = "--" + option.replace("_", "-")
        raise click.UsageError(f"{flag} espera ids de segmento separados por comas, p. ej. 3,5")
    return [int(part) for part in parts]


def register(group: click.Group) -> None:
    group.add_command(update_campaign)
