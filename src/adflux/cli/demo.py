"""`adflux demo`: the main job, end to end, on the embedded default."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import inspect

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.output import console, cop, number, print_json, print_table
from adflux.cli.reports import print_report
from adflux.cli.tracking import PLATFORM_NAMES, print_first_hand
from adflux.constants import PLATFORMS


@click.command("demo")
@click.option("--candidates", type=click.IntRange(min=500), default=5000, show_default=True)
@click.option("--jobs", type=click.IntRange(min=10), default=200, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option(
    "--days",
    type=click.IntRange(1, 90),
    default=21,
    show_default=True,
    help=N_("Days of delivery to simulate."),
)
@click.option("--platforms", default="meta,google,tiktok", show_default=True)
@click.option(
    "--reset",
    is_flag=True,
    help=N_("Also start over when the database holds data the demo did not create (backed up first)."),
)
@pass_cli
def demo(
    cli: CliContext, candidates: int, jobs: int, seed_value: int, days: int, platforms: str, reset: bool
) -> None:
    """Simulated data → segments → a campaign published to the sandbox → metrics → a report.

    \b
    What it touches:
    - the configured database (default: instance/adflux.db): it adds simulated
      candidates and job openings, a segmentation model and one campaign with
      its metrics; then a job feed (a simulated portal served on 127.0.0.1 for
      the demo, left disabled) and a playbook whose campaigns follow the feed's
      openings;
    - the platform sandbox: on the embedded default its store,
      instance/sandbox.db, which it empties and sets to the demo's clock (only
      after emptying the database as above);
    - instance/demo-data.json: what it left, so the next demo knows what it
      may erase.
    A second demo erases only what the first one left. If the database holds
    anything else (a user, a token, your own jobs or campaigns) it stops,
    unless --reset, which first saves a backup (adflux db backups lists it,
    adflux db restore brings it back).
    """
    from adflux import embedded
    from adflux.extensions import db
    from adflux.services import demo as demo_service
    from adflux.services import demo_safety
    from adflux.services.database import upgrade_database

    chosen = _platforms(platforms)
    started = time.perf_counter()

    def say(message: str) -> None:
        if not cli.as_json:  # --json prints one JSON document and nothing else
            console.print(message)

    app = cli.app
    with app.app_context():
        if "alembic_version" not in inspect(db.engine).get_table_names():
            say("Creando la base de datos (migraciones)…")
            upgrade_database()
        else:
            _make_room(reset, say)
        result = demo_service.run_demo(
            candidates=candidates,
            jobs=jobs,
            seed=seed_value,
            platforms=chosen,
            days=days,
            step=lambda message: say(f"[bold cyan]▸[/] {message}"),
            fresh_sandbox=embedded.fresh_sandbox,
        )
        demo_safety.remember_demo_data()
    elapsed = time.perf_counter() - started
    if cli.as_json:
        return print_json({**result.__dict__, "elapsed_s": round(elapsed, 1)})
    print_report(
        result.by_platform,
        title=_("Campaign %(campaign_id)s: results by platform", campaign_id=result.campaign_id),
    )
    print_report(result.by_segment, title=_("Results by segment"))
    if result.tracking:
        print_first_hand(result.tracking["report"], title=_("First-hand (AdFlux) and platform applications"))
        sent = result.tracking["conversions"]["sent"]
        console.print(
            _(
                "Conversions sent to the platforms: %(sent)s",
                sent=", ".join(f"{PLATFORM_NAMES.get(p, p)} {number(n)}" for p, n in sorted(sent.items()))
                or _("none"),
            )
        )
    _print_feed_campaigns(result.feed.get("campaigns", []))
    _print_next_steps(result, elapsed)


def _print_next_steps(result: Any, elapsed: float) -> None:
    console.print(_("\n[green]Demo finished in %(elapsed)s s.[/] Next steps:", elapsed=f"{elapsed:.1f}"))
    console.print(
        _(
            "  adflux campaign show %(campaign_id)s       # status and IDs on each platform",
            campaign_id=result.campaign_id,
        )
    )
    console.print(_("  adflux view-segments                # the candidate segments"))
    console.print(
        _(
            "  adflux report --group-by day,platform --campaign-id %(campaign_id)s --until %(until)s",
            campaign_id=result.campaign_id,
            until=result.until,
        )
    )
    console.print(_("  adflux feeds runs                   # the simulated feed's reads and what they found"))
    console.print(_("  adflux playbooks list               # the playbook that created the feed's campaigns"))
    console.print(_("  adflux serve                        # the dashboard on http://127.0.0.1:5000/"))


def _print_feed_campaigns(rows: list[dict[str, Any]]) -> None:
    print_table(
        _("Campaigns that followed the feed"),
        [
            (N_("Campaign"), "campaign_id"),
            (N_("Opening"), lambda r: f"{r['job']} ({r['city']})"),
            (N_("Status"), "status"),
            (N_("Budget"), lambda r: cop(r["budget_total"])),
            (N_("Decision"), "decision"),
        ],
        rows,
    )


def _platforms(raw: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in raw.split(",") if p.strip())
    unknown = sorted(set(chosen) - set(PLATFORMS))
    if unknown or len(chosen) < 1:
        raise click.BadParameter(
            _("unknown platform(s): %(value)s", value=", ".join(unknown) or _("(none given)")),
            param_hint="--platforms",
        )
    return chosen


def _make_room(reset: bool, say: Callable[[str], None]) -> None:
    """Make room for the demo (services/demo_safety decides) and say what was done."""
    from adflux import embedded
    from adflux.services import demo_safety

    try:
        room = demo_safety.make_room(reset=reset)
    except demo_safety.DemoWouldEraseData as exc:
        raise click.ClickException(exc.message) from None
    if room.done == "demo":
        say(_("[yellow]Resetting the previous demo's data (nothing else had changed)[/]"))
    saved = room.backup
    if saved is not None:
        say(_("[yellow]Backup saved in %(path)s[/] (adflux db restore to go back)", path=saved.path))
        store = embedded.save_store_copy(Path(saved.path + ".sandbox.db"))
        if store is not None:
            say(_("[yellow]Sandbox objects saved in %(path)s[/]", path=store))


def register(group: click.Group) -> None:
    group.add_command(demo)
