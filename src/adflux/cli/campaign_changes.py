"""`adflux update-campaign`: change a live campaign's budget, end date, weights or segments in place."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.campaigns import _weights, show_campaign
from adflux.cli.output import console, print_json


@click.command("update-campaign")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--budget", "budget_total", type=click.IntRange(min=1), help=N_("New total budget, COP."))
@click.option("--daily-budget", "budget_daily", type=click.IntRange(min=1), help=N_("New daily budget, COP."))
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), help=N_("New end date, YYYY-MM-DD."))
@click.option("--target-cpa", type=click.IntRange(min=1), help=N_("New target cost per application, COP."))
@click.option("--weights", help=N_("Budget weights per platform, e.g. meta=2,google=1."))
@click.option("--add-segments", help=N_("Segments to add, by id: 3,5 (a new ad group each)."))
@click.option("--remove-segments", help=N_("Segments to remove, by id: 2 (their ad groups are paused)."))
@pass_cli
def update_campaign(cli: CliContext, campaign_id: int, **opts: Any) -> None:
    """Change a published campaign and apply it on each platform without replacing it."""
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
            _(
                "Give at least one change: --budget, --daily-budget, --end-date, --target-cpa, "
                "--weights, --add-segments or --remove-segments"
            )
        )
    result = cli.client.patch(f"/campaigns/{campaign_id}", json=body)
    campaign = cli.client.get(f"/campaigns/{campaign_id}")
    if cli.as_json:
        print_json({"change": result, "campaign": campaign})
        return
    if result["unchanged"]:
        console.print(
            _(
                "Campaign %(campaign_id)s already had those values: nothing was sent to the platforms.",
                campaign_id=campaign_id,
            )
        )
    else:
        platforms = ", ".join(sorted(result["queued"])) or _("none (not published yet)")
        console.print(
            _(
                "Campaign %(campaign_id)s changed; update sent to: %(platforms)s",
                campaign_id=campaign_id,
                platforms=platforms,
            )
        )
    show_campaign(campaign)
    failed = [pc["platform"] for pc in campaign["platform_campaigns"] if pc.get("update_status") == "failed"]
    if failed:
        console.print(_("[red]The update failed on: %(failed)s[/]", failed=", ".join(failed)))
        raise SystemExit(1)


def _ids(text: str, option: str) -> list[int]:
    """``3,5`` -> [3, 5]; anything else is a one-line usage error."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) > 0 for part in parts):
        flag = "--" + option.replace("_", "-")
        raise click.UsageError(_("%(flag)s expects comma-separated segment ids, e.g. 3,5", flag=flag))
    return [int(part) for part in parts]


def register(group: click.Group) -> None:
    group.add_command(update_campaign)
