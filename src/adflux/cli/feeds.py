"""Job feeds from the command line: add, list, read now, runs, remove (all through the API)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import named
from adflux.cli.output import bogota_time, console, number, page_caption, print_json, print_table
from adflux.services.feeds.destinations import masked_location

FEED_FORMATS = ("xml", "json", "jsonl", "csv")
RUN_STATUS_NAMES = {
    "queued": N_("queued"),
    "running": N_("in progress"),
    "succeeded": N_("succeeded"),
    "unchanged": N_("no changes"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
}
TRIGGER_NAMES = {"manual": N_("manual"), "schedule": N_("scheduled")}
COUNTS_ES = (
    (N_("Listed"), "listed"),
    (N_("New"), "new"),
    (N_("Changed"), "changed"),
    (N_("Unchanged"), "unchanged"),
    (N_("Closed"), "closed"),
    (N_("Reopened"), "reopened"),
    (N_("Rejected"), "rejected"),
)
SHOWN_REJECTIONS = 10
POLL_SECONDS = 0.5


def yes_no(value: Any) -> str:
    return _("yes") if value else _("no")


def run_status(code: str | None) -> str:
    return named(RUN_STATUS_NAMES, code)


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, name = pair.partition("=")
        if not sep or not field.strip() or not name.strip():
            raise click.ClickException(
                _("--map expects field=name_in_the_feed, e.g. title=puesto (not %(pair)r)", pair=pair)
            )
        mapping[field.strip()] = name.strip()
    return mapping


def _location(cli: CliContext, location: str) -> str:
    """In-process, a relative file path is taken from the current directory (made absolute)."""
    if cli.api_url or "://" in location:
        return location
    return str(Path(location).expanduser().resolve())


@click.group("feeds")
def feeds_group() -> None:
    """Job feeds: add, list, run (read now), runs, remove."""


@feeds_group.command("add")
@click.option("--name", required=True, help=N_("A name for the feed (unique)."))
@click.option("--location", required=True, help=N_("An http(s):// address or a file path."))
@click.option("--format", "fmt", type=click.Choice(FEED_FORMATS), help=N_("Default: guessed from the name."))
@click.option(
    "--interval", "interval_minutes", type=click.IntRange(1, 10080), help=N_("Minutes between reads.")
)
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="FIELD=FEEDNAME",
    help=N_("The feed's name for an AdFlux field, e.g. --map title=puesto (repeatable)."),
)
@click.option(
    "--max-shrink",
    type=click.FloatRange(0, 1, min_open=True),
    help=N_("A read listing this share fewer openings than the last one closes nothing (default 0.5)."),
)
@click.option("--disabled", is_flag=True, help=N_("Register it switched off (not read on schedule)."))
@pass_cli
def add(cli: CliContext, **opts: Any) -> None:
    """Register a job feed (XML, JSON, JSON lines or CSV; URL or file)."""
    body: dict[str, Any] = {
        "name": opts["name"],
        "location": _location(cli, opts["location"]),
        "mapping": _mapping(opts["pairs"]),
        "enabled": not opts["disabled"],
    }
    for key, option in (
        ("format", "fmt"),
        ("interval_minutes", "interval_minutes"),
        ("max_shrink", "max_shrink"),
    ):
        if opts[option] is not None:
            body[key] = opts[option]
    feed = cli.client.post("/feeds", json=body)
    if cli.as_json:
        return print_json(feed)
    console.print(
        _(
            "[bold]Feed %(id)s[/] · %(name)s · %(format)s · every %(interval_minutes)s min · %(value)s",
            id=feed["id"],
            name=feed["name"],
            format=feed["format"],
            interval_minutes=number(feed["interval_minutes"]),
            value=_("on") if feed["enabled"] else _("off"),
        )
    )
    console.print(_("Read it now with [bold]adflux feeds run %(id)s[/].", id=feed["id"]))


@feeds_group.command("list")
@pass_cli
def list_feeds(cli: CliContext) -> None:
    """The job feeds and their last read."""
    feeds = cli.client.get("/feeds")
    if cli.as_json:
        return print_json(feeds)
    print_table(
        _("Job feeds"),
        [
            (N_("ID"), "id"),
            (N_("Name"), "name"),
            (N_("Location"), lambda r: masked_location(r["location"])),
            (N_("Format"), "format"),
            (N_("Every (min)"), lambda r: number(r["interval_minutes"])),
            (N_("Enabled"), lambda r: yes_no(r["enabled"])),
            (N_("Last read (Bogotá)"), lambda r: bogota_time(r.get("last_run_at"))),
            (N_("Status"), lambda r: run_status(r.get("last_status"))),
            (N_("Openings"), lambda r: number(r.get("last_count"))),
        ],
        feeds,
    )


def follow_run(cli: CliContext, run: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll a queued or running feed run until it finishes (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    with (
        console.status(f"Leyendo el feed {run['feed_id']}…", spinner="dots")
        if not cli.as_json
        else nullcontext()
    ):
        while run["status"] in ("queued", "running"):
            if time.monotonic() >= deadline:
                raise click.ClickException(
                    _(
                        "read %(id)s is still %(status)s after %(timeout)s s; look it up with: adflux "
                        "feeds runs --feed-id %(feed_id)s",
                        id=run["id"],
                        status=run_status(run["status"]),
                        timeout=f"{timeout:g}",
                        feed_id=run["feed_id"],
                    )
                )
            time.sleep(POLL_SECONDS)
            run = cli.client.get(f"/feeds/runs/{run['id']}")
    return run


def _count(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: number(row.get(key))


def show_run(run: dict[str, Any]) -> None:
    console.print(
        _(
            "[bold]Read %(id)s[/] of feed %(feed_id)s · status [bold]%(status)s[/] · %(get)s (Bogotá)",
            id=run["id"],
            feed_id=run["feed_id"],
            status=run_status(run["status"]),
            get=bogota_time(run.get("finished_at")),
        )
    )
    if run["status"] in ("failed", "skipped"):
        return
    print_table(
        _("Openings"),
        [("", "label"), (N_("Count"), "value")],
        [{"label": _(label), "value": number(run.get(key))} for label, key in COUNTS_ES],
    )
    rejected = run.get("errors") or []
    if rejected:
        shown = min(len(rejected), SHOWN_REJECTIONS)
        print_table(
            _(
                "Rejected rows (first %(shown)s of %(rejected)s)",
                shown=shown,
                rejected=number(run["rejected"]),
            ),
            [
                (N_("Row"), _where),
                (N_("Reference"), lambda r: r.get("external_ref") or "—"),
                (N_("Reason"), "reason"),
            ],
            rejected[:SHOWN_REJECTIONS],
        )


def _where(row: dict[str, Any]) -> str:
    if "line" in row:
        return _("line %(n)s", n=row["line"])
    if "record" in row:
        return _("record %(n)s", n=row["record"])
    return "—"


@feeds_group.command("run")
@click.argument("feed_id", type=click.IntRange(min=1))
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True, help=N_("Seconds."))
@pass_cli
def run_now(cli: CliContext, feed_id: int, timeout: float) -> None:
    """Read a feed now and print what it found (exit 1 if the read failed)."""
    run = follow_run(cli, cli.client.post(f"/feeds/{feed_id}/run"), timeout)
    if cli.as_json:
        print_json(run)
    else:
        show_run(run)
    if run["status"] == "failed":
        raise click.ClickException(
            _("read %(id)s failed: %(get)s", id=run["id"], get=_one_line(run.get("error")))
        )
    if run["status"] == "skipped":
        raise click.ClickException(
            _("read %(id)s was skipped: %(get)s", id=run["id"], get=_one_line(run.get("error")))
        )


def _one_line(text: str | None) -> str:
    return " ".join((text or _("no details")).split())[:500]


@feeds_group.command("runs")
@click.option("--feed-id", type=click.IntRange(min=1), help=N_("Only this feed's runs."))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def runs(cli: CliContext, **filters: Any) -> None:
    """Feed runs, newest first."""
    page = cli.client.get("/feeds/runs", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Feed runs"),
        [
            (N_("ID"), "id"),
            (N_("Feed"), "feed_id"),
            (N_("Status"), lambda r: run_status(r["status"])),
            (N_("Source"), lambda r: named(TRIGGER_NAMES, r["trigger"])),
            (N_("Start (Bogotá)"), lambda r: bogota_time(r.get("started_at"))),
            *[(label, _count(key)) for label, key in COUNTS_ES],
            (N_("Error"), lambda r: _one_line(r["error"])[:120] if r.get("error") else ""),
        ],
        page["items"],
        caption=page_caption(page),
    )


@feeds_group.command("remove")
@click.argument("feed_id", type=click.IntRange(min=1))
@pass_cli
def remove(cli: CliContext, feed_id: int) -> None:
    """Remove a feed (its openings stay)."""
    cli.client.request("DELETE", f"/feeds/{feed_id}")
    if cli.as_json:
        return print_json({"id": feed_id, "deleted": True})
    console.print(_("Feed %(feed_id)s deleted; its openings are kept.", feed_id=feed_id))


def register(group: click.Group) -> None:
    group.add_command(feeds_group)
