"""Budget allocation (show, enable, disable, run, moves, compare) and forecasts from the command line."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.output import console, cop, number, percent, print_json, print_table
from adflux.constants import PLATFORM_LABELS, PLATFORMS

POLICY_NAMES = {
    "even": N_("Even split (today)"),
    "weights": N_("Weights by platform"),
    "frozen": N_("Last week's split, fixed"),
}
STATUS_NAMES = {
    "applied": N_("applied"),
    "failed": N_("failed to apply"),
    "unchanged": N_("unchanged"),
    "pending": N_("pending"),
}
SKIPPED_NAMES = {
    "disabled": N_("allocation is off for this campaign"),
    "not_live": N_("the campaign is not live"),
    "too_few_ad_groups": N_("the campaign has fewer than two ad groups"),
    "already_allocated": N_("already allocated today"),
    "no_budget": N_("there is no daily budget to split"),
}


def _named(names: dict[str, str], code: str) -> str:
    """A code's name in the CLI's language (the code itself if it has none)."""
    return _(names[code]) if code in names else code


def _settings_line(state: dict[str, Any]) -> str:
    return _(
        "Campaign %(id)s · %(state)s · least per group %(min_share)s · most moved per day "
        "%(max_move)s · exploration %(explore)s",
        id=state["campaign_id"],
        state=_("allocation on") if state["enabled"] else _("allocation off"),
        min_share=percent(state["min_share"], 0),
        max_move=percent(state["max_move"], 0),
        explore=percent(state["explore"], 0),
    )


def show_moves(entries: list[dict[str, Any]]) -> None:
    print_table(
        _("Budget moves"),
        [
            (N_("Day"), "day"),
            (N_("Platform"), lambda e: PLATFORM_LABELS.get(e["platform"], e["platform"])),
            (N_("Group"), "ad_group_id"),
            (N_("Before"), lambda e: cop(e["budget_before"])),
            (N_("After"), lambda e: cop(e["budget_after"])),
            (N_("Propensity"), lambda e: percent(e["propensity"], 1)),
            (N_("Status"), lambda e: _named(STATUS_NAMES, e["status"])),
            (N_("Explanation"), lambda e: e.get("message") or ""),
        ],
        entries,
    )


@click.group("allocation")
def allocation_group() -> None:
    """Budget allocation between a campaign's ad groups, toward the applications each peso buys."""


@allocation_group.command("show")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def show(cli: CliContext, campaign_id: int) -> None:
    """The campaign's allocation settings and its latest moves."""
    state = cli.client.get(f"/allocation/{campaign_id}")
    entries = cli.client.get(f"/allocation/{campaign_id}/moves")
    if cli.as_json:
        return print_json({"settings": state, "moves": entries})
    console.print(_settings_line(state))
    show_moves(entries[:20])


def _switch(name: str, enabled: bool, help: str) -> None:
    @allocation_group.command(name, help=help)
    @click.argument("campaign_id", type=click.IntRange(min=1))
    @click.option(
        "--min-share", type=click.FloatRange(0, 0.5), help=N_("Least share of the daily budget per ad group.")
    )
    @click.option(
        "--max-move", type=click.FloatRange(0.01, 1), help=N_("Most share of the daily budget moved per day.")
    )
    @click.option(
        "--explore", type=click.FloatRange(0, 0.2), help=N_("Chance of a random split within the limits.")
    )
    @pass_cli
    def command(cli: CliContext, campaign_id: int, **limits: float | None) -> None:
        body: dict[str, Any] = {"enabled": enabled, **{k: v for k, v in limits.items() if v is not None}}
        state = cli.client.request("PUT", f"/allocation/{campaign_id}", json=body)
        if cli.as_json:
            return print_json(state)
        console.print(_settings_line(state))


_switch("enable", True, N_("Switch the allocator on for a campaign (optionally with limits)."))
_switch("disable", False, N_("Switch the allocator off: the budget stays split as it is."))


@allocation_group.command("run")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def run(cli: CliContext, campaign_id: int) -> None:
    """Allocate today now (once a day; the beat does it every morning)."""
    result = cli.client.post(f"/allocation/{campaign_id}/run")
    if cli.as_json:
        return print_json(result)
    if result["skipped"] and result["skipped"] != "already_allocated":
        raise click.ClickException(
            _("Not allocated: %(skipped)s.", skipped=_named(SKIPPED_NAMES, result["skipped"]))
        )
    if result["skipped"]:
        console.print(
            _(
                "Campaign %(campaign_id)s: %(already_allocated)s.",
                campaign_id=campaign_id,
                already_allocated=_(SKIPPED_NAMES["already_allocated"]),
            )
        )
    moved = [e for e in result["entries"] if e.get("message")]
    console.print(
        _(
            "Campaign %(campaign_id)s · %(moved)s moves",
            campaign_id=campaign_id,
            moved=number(len(moved)),
        )
    )
    for entry in moved:
        console.print(f"  {entry['message']}")


@allocation_group.command("moves")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def moves(cli: CliContext, campaign_id: int) -> None:
    """The allocation log: every ad group's budget each day, its propensity and the explanation."""
    entries = cli.client.get(f"/allocation/{campaign_id}/moves")
    if cli.as_json:
        return print_json(entries)
    show_moves(entries)


@allocation_group.command("compare")
@click.argument("campaign_id", type=click.IntRange(min=1))
@pass_cli
def compare(cli: CliContext, campaign_id: int) -> None:
    """What other splits would have bought on the allocated days, pooled over allocated campaigns (95 %)."""
    result = cli.client.get(f"/allocation/{campaign_id}/comparison")
    if cli.as_json:
        return print_json(result)
    if not result["logged"]:
        raise click.ClickException(_("This campaign has no allocated days to compare yet."))
    logged = result["logged"]
    has_interval = result["has_interval"]
    console.print(
        _(
            "Campaign %(campaign_id)s · %(days)s days · allocated campaigns pooled: %(campaigns)s; on "
            "their allocated days the allocator got %(number)s applications",
            campaign_id=campaign_id,
            days=number(result["days"]),
            campaigns=number(result["campaigns"]),
            number=number(logged["value"]),
        )
        + (f" ({number(logged['low'])}–{number(logged['high'])})" if has_interval else "")
    )
    if not has_interval:
        console.print(result["note"])

    def interval(estimate: dict[str, Any]) -> str:
        if not has_interval:
            return _("no interval")
        return f"{number(estimate['low'])}–{number(estimate['high'])}"

    print_table(
        _("Policies (doubly robust estimate; IPS as a check)"),
        [
            (N_("Policy"), lambda p: _named(POLICY_NAMES, p["policy"])),
            (N_("Applications"), lambda p: number(p["dr"]["value"])),
            (N_("Interval (95 %)"), lambda p: interval(p["dr"])),
            (N_("This campaign"), lambda p: number(p["campaign_dr"])),
            (N_("IPS"), lambda p: number(p["ips"]["value"])),
            (N_("Matching days"), lambda p: number(p["ips"]["matched"])),
        ],
        result["policies"],
    )


@click.group("forecast", invoke_without_command=True)
@click.option("--category", help=N_("Job category code (e.g. logistica_transporte)."))
@click.option("--city", help=N_("City of the job."))
@click.option(
    "--platform", "platforms", multiple=True, type=click.Choice(PLATFORMS), help=N_("Repeat per platform.")
)
@click.option("--segments", type=click.IntRange(1, 20), default=1, show_default=True)
@click.option("--budget", type=click.IntRange(min=1), help=N_("Total budget, COP."))
@click.option("--days", type=click.IntRange(1, 366), help=N_("Flight length in days."))
@click.pass_context
def forecast(ctx: click.Context, **plan: Any) -> None:
    """Forecast applications and CPA (interval: 80 %) for a planned campaign; `forecast train|versions`."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [f"--{k}" for k in ("category", "city", "budget", "days") if not plan[k]]
    if missing or not plan["platforms"]:
        raise click.UsageError(
            _("Missing %(join)s", join=", ".join(missing + ([] if plan["platforms"] else ["--platform"])))
        )
    cli: CliContext = ctx.find_object(CliContext)  # type: ignore[assignment]
    body = {
        "category": plan["category"],
        "city": plan["city"],
        "platforms": list(plan["platforms"]),
        "segments": plan["segments"],
        "budget_total": plan["budget"],
        "days": plan["days"],
    }
    result = cli.client.post("/forecasts", json=body)
    if cli.as_json:
        return print_json(result)
    console.print(
        _(
            "Applications: %(applications)s (80 %%: %(applications_low)s–%(applications_high)s)",
            applications=number(result["applications"]),
            applications_low=number(result["applications_low"]),
            applications_high=number(result["applications_high"]),
        )
    )
    if result["cpa"] is not None:
        console.print(
            _(
                "CPA: %(cpa)s (80 %%: %(cpa_low)s–%(cpa_high)s)",
                cpa=cop(result["cpa"]),
                cpa_low=cop(result["cpa_low"]),
                cpa_high=cop(result["cpa_high"]),
            )
        )
    console.print(_("Forecast model v%(model_version)s", model_version=result["model_version"]))


@forecast.command("train")
@pass_cli
def train(cli: CliContext) -> None:
    """Train a new forecast version on the portal's finished campaigns."""
    result = cli.client.post("/forecasts/models")
    if cli.as_json:
        return print_json(result)
    if not result["trained"]:
        raise click.ClickException(
            _(
                "Not enough history: %(campaigns)s finished campaigns (50 are needed).",
                campaigns=number(result["campaigns"]),
            )
        )
    console.print(
        _(
            "Version %(version)s %(value)s · coverage %(coverage)s · CPA error %(mape_cpa)s (category "
            "average: %(baseline_mape_cpa)s)",
            version=result["version"],
            value=_("active") if result["active"] else _("candidate"),
            coverage=percent(result["coverage"], 0),
            mape_cpa=percent(result["mape_cpa"], 0),
            baseline_mape_cpa=percent(result["baseline_mape_cpa"], 0),
        )
    )


@forecast.command("versions")
@pass_cli
def versions(cli: CliContext) -> None:
    """Every forecast version with its figures on held-out campaigns."""
    rows = cli.client.get("/forecasts/models")
    if cli.as_json:
        return print_json(rows)
    print_table(
        _("Forecast versions"),
        [
            (N_("Version"), "version"),
            (N_("Status"), "status"),
            (N_("Coverage (80 %)"), lambda r: percent(r["metrics"].get("coverage"), 0)),
            (N_("CPA error"), lambda r: percent(r["metrics"].get("mape_cpa"), 0)),
            (N_("Campaigns"), "training_size"),
        ],
        rows,
    )


def register(group: click.Group) -> None:
    group.add_command(allocation_group)
    group.add_command(forecast)
