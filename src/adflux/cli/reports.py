"""Performance from the command line: sync metrics and print reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.campaigns import wait_for_task
from adflux.cli.choices import CATEGORY_NAMES_EN, named
from adflux.cli.output import console, cop, number, percent, print_json, print_table, severity_name
from adflux.constants import PLATFORM_LABELS

METRIC_COLUMNS: list[tuple[str, Any]] = [
    # Short headers, so a report by two dimensions still fits an 80-column terminal.
    (N_("Impr."), lambda r: number(r["impressions"])),
    (N_("Clicks"), lambda r: number(r["clicks"])),
    (N_("Applic."), lambda r: number(r["applications"])),
    (N_("Spend"), lambda r: cop(r["spend"])),
    (N_("CTR"), lambda r: percent(r["ctr"])),
    (N_("CPC"), lambda r: cop(r["cpc"])),
    (N_("CPA"), lambda r: cop(r["cpa"])),
]
DIMENSION_COLUMNS: dict[str, tuple[str, Any]] = {
    "campaign": (N_("Campaign"), lambda r: f"{r['campaign']} · {r.get('campaign_name') or ''}"),
    "platform": (N_("Platform"), lambda r: PLATFORM_LABELS.get(r["platform"], r["platform"])),
    "segment": (N_("Segment"), lambda r: r.get("segment_name") or "—"),
    "category": (N_("Category"), lambda r: named(CATEGORY_NAMES_EN, r["category"])),
    "day": (N_("Day"), "day"),
}


@click.command("sync-metrics")
@pass_cli
def sync_metrics(cli: CliContext) -> None:
    """Pull the latest daily insights from every platform now."""
    task = cli.client.post("/reports/sync")
    run = wait_for_task(cli, task, _("Syncing"))
    if cli.as_json:
        print_json(run)
        if run["status"] == "failed":  # scripts read the exit code
            raise SystemExit(1)
        return
    result = run.get("result") or {}
    console.print(
        _(
            "%(get)s rows from %(get2)s platform campaigns",
            get=result.get("rows", 0),
            get2=result.get("platform_campaigns", 0),
        )
    )
    for platform, info in (result.get("platforms") or {}).items():
        if info.get("error"):
            console.print(f"[red]{platform}[/]: {info['error']}")
    if run["status"] == "failed":
        raise click.ClickException(run.get("error") or "metrics sync failed")


@click.command("report")
@click.option(
    "--group-by", default="platform", show_default=True, help=N_("campaign,platform,segment,category,day")
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--campaign-id", type=click.IntRange(min=1))
@click.option("--platform")
@click.option("--segment-id", type=click.IntRange(min=1))
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help=N_("Write CSV here (for Excel in Colombian Spanish: ';', decimal comma, BOM)."),
)
@click.option(
    "--plain", is_flag=True, help=N_("With --csv: a plain CSV for scripts (',', dot decimals, codes).")
)
@pass_cli
def report(cli: CliContext, group_by: str, csv_file: Path | None, plain: bool, **filters: Any) -> None:
    """Performance by campaign, platform, segment, job category and day."""
    params = {
        k: (v.date().isoformat() if hasattr(v, "date") else v) for k, v in filters.items() if v is not None
    }
    params["group_by"] = group_by
    if csv_file:
        style = "plain" if plain else "excel"
        csv_text = cli.client.get("/reports/performance.csv", **params, style=style)
        csv_file.write_text(csv_text, encoding="utf-8")
        console.print(_("CSV written to %(csv_file)s", csv_file=csv_file))
        return
    data = cli.client.get("/reports/performance", **params)
    if cli.as_json:
        return print_json(data)
    print_report(data, title=_("Performance %(since)s → %(until)s", since=data["since"], until=data["until"]))


@click.command("weekly-report")
@click.option(
    "--week-of", type=click.DateTime(["%Y-%m-%d"]), help=N_("Any day of the week (default: this week).")
)
@pass_cli
def weekly_report(cli: CliContext, week_of: Any) -> None:
    """This week's (or another week's) results, alerts, failed tasks and suggestions."""
    params = {"week_of": week_of.date().isoformat()} if week_of else {}
    data = cli.client.get("/reports/weekly", **params)
    if cli.as_json:
        return print_json(data)
    alerts = data["alerts_opened"]
    kinds = data["feedback"]["by_kind"]
    opened = ", ".join(f"{severity_name(k)} {v}" for k, v in sorted(alerts.items())) or "0"
    rows = [
        (N_("Spend"), cop(data["spend"])),
        (N_("Applications"), number(data["applications"])),
        (N_("Campaigns created"), number(data["campaigns_created"])),
        (N_("Alerts opened"), opened),
        (N_("Failed tasks"), number(data["tasks_failed"])),
        (
            N_("Suggestions"),
            _(
                "%(total)s (ideas %(ideas)s, problems %(problems)s, other %(other)s)",
                total=data["feedback"]["total"],
                ideas=kinds.get("idea", 0),
                problems=kinds.get("problem", 0),
                other=kinds.get("other", 0),
            ),
        ),
    ]
    print_table(
        _("Week %(week_start)s → %(week_end)s", week_start=data["week_start"], week_end=data["week_end"]),
        [(N_("What"), "what"), (N_("How much"), "value")],
        [{"what": _(what), "value": value} for what, value in rows],
    )


def print_report(data: dict[str, Any], *, title: str) -> None:
    """A report table with a totals line."""
    columns: list[tuple[str, Any]] = []
    for position, dim in enumerate(data["group_by"]):
        header, getter = DIMENSION_COLUMNS[dim]

        def cell(row: dict[str, Any], getter: Any = getter, first: bool = position == 0) -> Any:
            if row.get("_total"):
                return "TOTAL" if first else ""
            return getter(row) if callable(getter) else row.get(getter)

        columns.append((header, cell))
    rows = [*data["rows"], {**data["totals"], "_total": True}]
    print_table(title, [*columns, *METRIC_COLUMNS], rows, hide_first=("CPC", "Clicks", "CTR"))


def register(group: click.Group) -> None:
    group.add_command(sync_metrics)
    group.add_command(report)
    group.add_command(weekly_report)
