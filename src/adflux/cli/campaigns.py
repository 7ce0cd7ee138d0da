"""Campaigns from the command line: create, view, publish and manage."""

from __future__ import annotations

import time
from typing import Any

import click
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import OBJECTIVE, statuses
from adflux.cli.output import console, cop, page_caption, print_json, print_table, status_name
from adflux.constants import CAMPAIGN_STATUSES, PLATFORM_LABELS


def _csv_list(value: str | None, cast: type = str) -> list[Any]:
    if not value:
        return []
    try:
        return [cast(part.strip()) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            _("%(value)r is not a comma-separated list of %(name)s", value=value, name=cast.__name__)
        ) from None


def _weights(value: str | None) -> dict[str, float] | None:
    if not value:
        return None
    weights: dict[str, float] = {}
    for part in value.split(","):
        name, _equals, weight = part.partition("=")
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            raise click.BadParameter(
                _("use platform=weight pairs, e.g. meta=2,google=1 (got %(part)r)", part=part)
            ) from None
    return weights


def _platform_rows(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    return campaign.get("platform_campaigns", [])


def _ad_group_rows(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per ad group, with whether its platform has its state yet."""
    rows = []
    for pc in _platform_rows(campaign):
        sent = UPDATE_STATES_ES.get(pc.get("update_status") or "", "aplicada")
        for group in pc.get("ad_groups", []):
            rows.append(
                {**group, "platform": pc["platform"], "status": group.get("status", "active"), "sent": sent}
            )
    return rows


def wait_for_task(cli: CliContext, task: dict[str, Any], label: str) -> dict[str, Any]:
    """Follow a task's progress until it finishes (a bar for people, silence for --json)."""
    run = cli.client.get(f"/tasks/{task['task_id']}")
    if run["status"] in ("succeeded", "failed"):
        return run
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=cli.as_json,
    ) as bar:
        handle = bar.add_task("", total=100)
        while run["status"] not in ("succeeded", "failed"):
            time.sleep(0.5)
            run = cli.client.get(f"/tasks/{task['task_id']}")
            bar.update(handle, completed=run["progress"], description=run.get("stage") or "")
    return run


UPDATE_STATES_ES = {"pending": "pendiente", "applied": "aplicada", "failed": "fallida"}
ACTION_NAMES_ES = {"pause": "pausar", "resume": "reanudar", "complete": "finalizar", "archive": "archivar"}


def show_campaign(campaign: dict[str, Any]) -> None:
    console.print(
        _(
            "[bold]Campaign %(id)s[/] · %(name)s · status [bold]%(status)s[/] · budget %(budget_total)s",
            id=campaign["id"],
            name=campaign["name"],
            status=status_name(campaign["status"]),
            budget_total=cop(campaign["budget_total"]),
        )
    )
    print_table(
        _("Platforms"),
        [
            (N_("Platform"), "platform"),
            (N_("Status"), lambda r: status_name(r["status"])),
            (N_("Budget"), lambda r: cop(r["budget_total"])),
            (N_("External ID"), "external_campaign_id"),
            (N_("Attempts"), "attempts"),
            (N_("Last error"), "last_error"),
            (N_("Update"), lambda r: UPDATE_STATES_ES.get(r.get("update_status") or "", "—")),
        ],
        _platform_rows(campaign),
    )
    groups = _ad_group_rows(campaign)
    if groups:
        print_table(
            _("Ad groups"),
            [
                (N_("Platform"), "platform"),
                (N_("Group"), "name"),
                (N_("Status"), lambda r: status_name(r["status"])),
                (N_("Daily budget"), lambda r: cop(r["budget_daily"]) if r.get("budget_daily") else "—"),
                (N_("On the platform"), "sent"),
            ],
            groups,
        )
    pending = campaign.get("pending_action")
    if pending:
        console.print(
            _(
                "[yellow]The action «%(pending)s» did not reach every platform;[/] finish it with: "
                "adflux campaign retry-action %(id)s",
                pending=ACTION_NAMES_ES.get(pending, pending),
                id=campaign["id"],
            )
        )


@click.command("create-campaign")
@click.option("--job-id", type=click.IntRange(min=1), required=True)
@click.option("--platforms", required=True, help=N_("Comma-separated: meta,google,x,tiktok,snapchat"))
@click.option("--segment-ids", help=N_("Comma-separated segment ids (default: broad audience)."))
@click.option(
    "--budget",
    "budget_total",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help=N_("Total budget, COP."),
)
@click.option("--daily-budget", "budget_daily", type=click.IntRange(min=1), help=N_("Daily budget, COP."))
@click.option(
    "--start", "start_date", type=click.DateTime(["%Y-%m-%d"]), help=N_("YYYY-MM-DD (default today).")
)
@click.option("--end", "end_date", type=click.DateTime(["%Y-%m-%d"]), help=N_("YYYY-MM-DD."))
@click.option("--target-cpa", type=click.IntRange(min=1), help=N_("Target cost per application, COP."))
@click.option("--objective", type=OBJECTIVE, default="traffic", show_default=True)
@click.option("--weights", help=N_("Budget weights, e.g. meta=2,google=1 (default: even)."))
@click.option("--name", help=N_("Campaign name (default: job title and city)."))
@click.option("--publish", is_flag=True, help=N_("Publish right away and follow the progress."))
@pass_cli
def create_campaign(cli: CliContext, **opts: Any) -> None:
    """Create a campaign for a job on the chosen platforms and segments."""
    body: dict[str, Any] = {
        "job_id": opts["job_id"],
        "platforms": _csv_list(opts["platforms"]),
        "segment_ids": _csv_list(opts["segment_ids"], int),
        "budget_total": opts["budget_total"],
        "budget_daily": opts["budget_daily"],
        "target_cpa": opts["target_cpa"],
        "objective": opts["objective"],
        "weights": _weights(opts["weights"]),
        "name": opts["name"],
    }
    for key in ("start_date", "end_date"):
        if opts[key]:
            body[key] = opts[key].date().isoformat()
    campaign = cli.client.post("/campaigns", json=body)
    if opts["publish"]:
        task = cli.client.post(f"/campaigns/{campaign['id']}/publish")
        wait_for_task(cli, task, _("Publishing"))
        campaign = cli.client.get(f"/campaigns/{campaign['id']}")
    if cli.as_json:
        return print_json(campaign)
    show_campaign(campaign)
    if not opts["publish"]:
        console.print(
            _(
                "Check the preview with [bold]adflux campaign preview %(id)s[/] and publish with "
                "[bold]adflux campaign publish %(id)s[/].",
                id=campaign["id"],
            )
        )


@click.command("view-campaigns")
@click.option("--status", type=statuses(CAMPAIGN_STATUSES))
@click.option("--job-id", type=click.IntRange(min=1))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def view_campaigns(cli: CliContext, **filters: Any) -> None:
    """List campaigns with each platform's status."""
    page = cli.client.get("/campaigns", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Campaigns"),
        [
            (N_("ID"), "id"),
            (N_("Name"), "name"),
            (N_("Status"), lambda r: status_name(r["status"])),
            (N_("Budget"), lambda r: cop(r["budget_total"])),
            (
                N_("Platforms"),
                lambda r: ", ".join(
                    f"{PLATFORM_LABELS.get(p['platform'], p['platform'])}: {status_name(p['status'])}"
                    for p in r["platform_campaigns"]
                ),
            ),
            (N_("Start"), "start_date"),
        ],
        page["items"],
        caption=page_caption(page),
        hide_first=("Start", "Platforms"),
    )


@click.group("campaign")
def campaign_group() -> None:
    """One campaign: show, preview, publish, pause, resume, complete, archive, retry-failed."""


@campaign_group.command("show")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def show(cli: CliContext, campaign_id: int) -> None:
    """A campaign with each platform's status, external ids, attempts and last error."""
    campaign = cli.client.get(f"/campaigns/{campaign_id}")
    print_json(campaign) if cli.as_json else show_campaign(campaign)


@campaign_group.command("preview")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def preview(cli: CliContext, campaign_id: int) -> None:
    """The creatives and the compliance report per platform, before publishing."""
    data = cli.client.get(f"/campaigns/{campaign_id}/preview")
    if cli.as_json:
        return print_json(data)
    for platform in data["platforms"]:
        creative = platform["creatives"][0]
        console.rule(f"[bold]{platform['platform']}[/] · {cop(platform['budget_total'])}")
        console.print(
            f"[bold]{creative['headline']}[/]\n{creative['primary_text']}\n[dim]{creative['link_url']}[/]"
        )
        for group in platform["ad_groups"]:
            notes = group["compliance"]
            console.print(
                _(
                    "  • %(name)s (%(budget_daily)s/day)",
                    name=group["name"],
                    budget_daily=cop(group["budget_daily"]),
                )
            )
            for note in notes:
                if note.get("action") in ("dropped", "widened"):
                    console.print(
                        f"      [yellow]{note['action']}[/] {note['criterion']} {note['value']}: "
                        f"{note['reason']}"
                    )


@campaign_group.command("set-owner")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.argument("owner")
@pass_cli
def set_owner(cli: CliContext, campaign_id: int, owner: str) -> None:
    """Give a campaign to a manager (user id or e-mail), who is told when it needs attention."""
    campaign = cli.client.put(f"/campaigns/{campaign_id}/owner", json={"owner": owner})
    print_json(campaign) if cli.as_json else show_campaign(campaign)


def _simple_action(name: str, help: str) -> None:
    @campaign_group.command(name, help=help)
    @click.argument("campaign_id", type=click.IntRange(min=1))
    @pass_cli
    def command(cli: CliContext, campaign_id: int) -> None:
        campaign = cli.client.post(f"/campaigns/{campaign_id}/{name}")
        print_json(campaign) if cli.as_json else show_campaign(campaign)
        if campaign.get("pending_action"):  # reached only some platforms: not a success
            raise SystemExit(1)


_simple_action("pause", N_("Pause a campaign."))
_simple_action("resume", N_("Resume a campaign."))
_simple_action("complete", N_("Complete (end the flight of) a campaign."))
_simple_action("archive", N_("Archive a campaign."))
_simple_action(
    "retry-action",
    N_("Finish the pause, resume, complete or archive that reached only some platforms of a campaign."),
)


def _background_action(name: str, path: str, help: str) -> None:
    @campaign_group.command(name, help=help)
    @click.argument("campaign_id", type=click.IntRange(min=1))
    @click.option("--no-wait", is_flag=True, help=N_("Return at once with the task id."))
    @pass_cli
    def command(cli: CliContext, campaign_id: int, no_wait: bool) -> None:
        task = cli.client.post(f"/campaigns/{campaign_id}/{path}")
        if no_wait:
            return (
                print_json(task)
                if cli.as_json
                else console.print(_("task %(task_id)s", task_id=task["task_id"]))
            )
        run = wait_for_task(cli, task, _("Publishing"))
        campaign = cli.client.get(f"/campaigns/{campaign_id}")
        if cli.as_json:
            return print_json({"task": run, "campaign": campaign})
        show_campaign(campaign)
        if campaign["status"] == "failed":
            raise click.ClickException(
                _("campaign %(campaign_id)s failed to publish on every platform", campaign_id=campaign_id)
            )


_background_action(
    "publish", "publish", N_("Publish a draft campaign in the background and follow the progress.")
)
_background_action(
    "retry-failed",
    "retry-failed",
    N_("Republish only the failed platforms in the background and follow the progress."),
)


def register(group: click.Group) -> None:
    group.add_command(create_campaign)
    group.add_command(view_campaigns)
    group.add_command(campaign_group)
