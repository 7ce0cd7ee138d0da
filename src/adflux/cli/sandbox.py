"""`adflux sandbox`: run the platform sandbox as a server on loopback."""

from __future__ import annotations

import logging

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _


@click.command("sandbox")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help=N_("Keep it on loopback: it has no real auth.")
)
@click.option("--port", type=click.IntRange(1, 65535), default=8900, show_default=True)
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0, show_default=True, help=N_("Simulated latency.")
)
@click.option("--seed", type=int, default=0, show_default=True, help=N_("Seed of the performance simulator."))
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_(
        "The sandbox's own SQLite file: objects, clock, ids and reports survive restarts and are "
        "shared with every sandbox process on the same file. Default: none, everything in memory."
    ),
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_(
        'Market scenario file (JSON; see docs/TECHNICAL_DOCS.md, "Market scenarios"): the hidden '
        "truth the simulator plays. Default: the built-in scenario."
    ),
)
def sandbox(
    host: str, port: int, latency_ms: float, seed: int, store_path: str | None, scenario_path: str | None
) -> None:
    """Emulate the Meta, Google Ads, X, TikTok and Snapchat APIs (control endpoints under /__sandbox/).

    Without --store the sandbox forgets everything when it stops; with --store PATH it remembers,
    and POST /__sandbox/reset empties the file.
    """
    from adflux import embedded

    try:
        scenario = embedded.use_scenario(scenario_path, seed)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(
        _(
            "Platform sandbox on http://%(host)s:%(port)s/ — point AdFlux at it with "
            "ADFLUX_PLATFORM_BASE_URL",
            host=host,
            port=port,
        )
    )
    click.echo(_("Market scenario: %(scenario)s (seed %(seed)s)", scenario=scenario, seed=seed))
    if store_path:
        click.echo(_("Sandbox state kept in %(store_path)s", store_path=store_path))
    embedded.serve(host, port, latency_ms=latency_ms, seed=seed, store=store_path)


def register(group: click.Group) -> None:
    group.add_command(sandbox)
