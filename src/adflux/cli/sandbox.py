"""`adflux sandbox`: run the platform sandbox as a server on loopback."""

from __future__ import annotations

import logging

import click


@click.command("sandbox")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Keep it on loopback: it has no real auth."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8900, show_default=True)
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0, show_default=True, help="Simulated latency."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the performance simulator.")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The sandbox's own SQLite file: objects, clock, ids and reports survive restarts and are "
    "shared with every sandbox process on the same file. Default: none, everything in memory.",
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False),
    default=None,
    help='Market scenario file (JSON; see docs/TECHNICAL_DOCS.md, "Market scenarios"): the hidden '
    "truth the simulator plays. Default: the built-in scenario.",
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
        f"Platform sandbox on http://{host}:{port}/ — point AdFlux at it with ADFLUX_PLATFORM_BASE_URL"
    )
    click.echo(f"Market scenario: {scenario} (seed {seed})")
    if store_path:
        click.echo(f"Sandbox state kept in {store_path}")
    embedded.serve(host, port, latency_ms=latency_ms, seed=seed, store=store_path)


def register(group: click.Group) -> None:
    group.add_command(sandbox)
