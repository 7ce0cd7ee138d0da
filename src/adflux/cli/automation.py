"""Automation from the command line: job feeds (cli/feeds.py), playbooks (cli/playbooks.py) and the
campaigns a playbook made that wait for a manager's approval (here). All through the API."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, feeds, pass_cli, playbooks
from adflux.cli.campaigns import show_campaign, wait_for_task
from adflux.cli.output import bogota_time, console, cop, page_caption, print_json, print_table
from adflux.constants import PLATFORM_LABELS


def _platforms(campaign: dict[str, Any]) -> str:
    return ", ".join(
        PLATFORM_LABELS.get(p["platform"], p["platform"]) for p in campaign["platform_campaigns"]
    )


@click.group("approvals", invoke_without_command=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@click.pass_context
def approvals_group(ctx: click.Context, page: int, page_size: int) -> None:
    """Campaigns awaiting approval (approve publishes; reject needs a reason)."""
    if ctx.invoked_subcommand is not None:
        return
    cli = ctx.find_object(CliContext)
    assert cli is not None  # main always sets it
    result = cli.client.get("/approvals", page=page, page_size=page_size)
    if cli.as_json:
        return print_json(result)
    print_table(
        _("Campaigns awaiting approval"),
        [
            (N_("ID"), "id"),
            (N_("Campaign"), "name"),
            (N_("Opening"), "job_id"),
            (N_("Platforms"), _platforms),
            (N_("Budget"), lambda r: cop(r["budget_total"])),
            (N_("Created (Bogotá)"), lambda r: bogota_time(r.get("created_at"))),
        ],
        result["items"],
        caption=page_caption(result),
    )
    if result["items"]:
        console.print(
            _(
                "Approve with [bold]adflux approvals approve ID[/] or reject with [bold]adflux "
                'approvals reject ID --reason "…"[/].'
            )
        )


@approvals_group.command("approve")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def approve(cli: CliContext, campaign_id: int) -> None:
    """Approve a campaign and follow its publishing."""
    task = cli.client.post(f"/approvals/{campaign_id}/approve")
    run = wait_for_task(cli, task, _("Publishing"))
    campaign = cli.client.get(f"/campaigns/{campaign_id}")
    if cli.as_json:
        print_json({"task": run, "campaign": campaign})
    else:
        show_campaign(campaign)
    if run["status"] == "failed" or campaign["status"] == "failed":
        error = " ".join(str(run.get("error") or "").split())[:300]
        raise click.ClickException(
            _("campaign %(id)s was approved but not published: %(error)s", id=campaign_id, error=error)
            if error
            else _("campaign %(id)s was approved but not published", id=campaign_id)
        )


@approvals_group.command("reject")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--reason", required=True, help=N_("Why (3 to 500 characters); the draft is archived."))
@pass_cli
def reject(cli: CliContext, campaign_id: int, reason: str) -> None:
    """Reject a campaign with a reason: it is archived and never published."""
    campaign = cli.client.post(f"/approvals/{campaign_id}/reject", json={"reason": reason})
    if cli.as_json:
        return print_json(campaign)
    console.print(
        _(
            "Campaign %(id)s rejected and archived: %(value)s",
            id=campaign["id"],
            value=campaign.get("approval_note") or reason,
        )
    )


def register(group: click.Group) -> None:
    feeds.register(group)
    playbooks.register(group)
    group.add_command(approvals_group)
