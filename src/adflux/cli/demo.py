"""`adflux demo`: the main job, end to end, on the embedded default."""

from __future__ import annotations

import time

import click
from sqlalchemy import inspect

from adflux.cli import CliContext, pass_cli
from adflux.cli.output import console, print_json
from adflux.cli.reports import print_report
from adflux.constants import PLATFORMS
from adflux.settings import current_settings


@click.command("demo")
@click.option("--candidates", type=click.IntRange(min=500), default=5000, show_default=True)
@click.option("--jobs", type=click.IntRange(min=10), default=200, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option(
    "--days", type=click.IntRange(1, 90), default=21, show_default=True, help="Days of delivery to simulate."
)
@click.option("--platforms", default="meta,google,tiktok", show_default=True)
@click.option(
    "--reset", is_flag=True, help="Wipe a non-empty database first (always done for the default SQLite file)."
)
@pass_cli
def demo(
    cli: CliContext, candidates: int, jobs: int, seed_value: int, days: int, platforms: str, reset: bool
) -> None:
    """Simulated data → segments → a campaign published to the sandbox → metrics → a report."""
    from adflux import embedded
    from adflux.extensions import db
    from adflux.services import demo as demo_service
    from adflux.services.database import upgrade_database

    chosen = tuple(p.strip() for p in platforms.split(",") if p.strip())
    unknown = sorted(set(chosen) - set(PLATFORMS))
    if unknown or len(chosen) < 1:
        raise click.BadParameter(
            f"unknown platform(s): {', '.join(unknown) or '(none given)'}", param_hint="--platforms"
        )
    started = time.perf_counter()

    def say(message: str) -> None:
        if not cli.as_json:  # --json prints one JSON document and nothing else
            console.print(message)

    app = cli.app
    settings = current_settings(app)
    with app.app_context():
        if "alembic_version" not in inspect(db.engine).get_table_names():
            say("Creando la base de datos (migraciones)…")
            upgrade_database()
        elif not demo_service.database_is_empty():
            if settings.database_url and not reset:
                raise click.ClickException(
                    "the database already has data; run with --reset to wipe it for the demo"
                )
            say("[yellow]Reiniciando la base de datos de demostración[/]")
            demo_service.reset_database()
        result = demo_service.run_demo(
            candidates=candidates,
            jobs=jobs,
            seed=seed_value,
            platforms=chosen,
            days=days,
            step=lambda message: say(f"[bold cyan]▸[/] {message}"),
            fresh_sandbox=embedded.fresh_sandbox,
        )
    elapsed = time.perf_counter() - started
    if cli.as_json:
        return print_json({**result.__dict__, "elapsed_s": round(elapsed, 1)})
    print_report(result.by_platform, title=f"Campaña {result.campaign_id}: resultados por plataforma")
    print_report(result.by_segment, title="Resultados por segmento")
    console.print(f"\n[green]Demo completa en {elapsed:.1f} s.[/] Siguientes pasos:")
    console.print(f"  adflux campaign show {result.campaign_id}       # estado y IDs en cada plataforma")
    console.print("  adflux view-segments                # los segmentos de candidatos")
    console.print(
        f"  adflux report --group-by day,platform --campaign-id {result.campaign_id} --until {result.until}"
    )
    console.print("  adflux serve                        # el tablero en http://127.0.0.1:5000/")


def register(group: click.Group) -> None:
    group.add_command(demo)
