"""Getting data in: simulated data and file imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.output import console, number, print_json, print_table


def _where(row: dict[str, Any]) -> str:
    return f"line {row['line']}" if "line" in row else f"record {row.get('record')}"


@click.command("seed")
@click.option("--candidates", type=click.IntRange(min=0), default=5000, show_default=True)
@click.option("--jobs", type=click.IntRange(min=0), default=200, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, help=N_("Random seed."))
@click.option("--replace", is_flag=True, help=N_("Delete earlier simulated rows first."))
@click.option(
    "--persona-mix",
    default="even",
    show_default=True,
    help=N_("Preset (even, mild, colombia) or eight comma-separated persona weights."),
)
@click.option("--overlap", type=click.FloatRange(0, 1), help=N_("Blend personas toward the average (0-1)."))
@click.option("--noise", type=click.FloatRange(0, 1), help=N_("Share of candidates off their persona (0-1)."))
@pass_cli
def seed(
    cli: CliContext,
    candidates: int,
    jobs: int,
    seed_value: int,
    replace: bool,
    persona_mix: str,
    overlap: float | None,
    noise: float | None,
) -> None:
    """Fill the database with simulated Colombian job openings and candidates."""
    from adflux.services.seeding import parse_persona_mix, seed_database

    try:
        mix = parse_persona_mix(persona_mix, overlap=overlap, noise=noise)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--persona-mix") from None
    with cli.app.app_context():
        if cli.as_json:
            result = seed_database(
                candidates=candidates, jobs=jobs, seed=seed_value, replace=replace, mix=mix
            )
            return print_json(_as_dict(result))
        with Progress(
            TextColumn("[bold]Sembrando datos"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("seed", total=candidates + jobs)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = seed_database(
                candidates=candidates,
                jobs=jobs,
                seed=seed_value,
                replace=replace,
                progress=progress,
                mix=mix,
            )
    console.print(_("[green]Done:[/] %(result)s", result=_summary(result)))


def _as_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "as_dict"):
        return result.as_dict()
    return dict(getattr(result, "__dict__", {}))


def _summary(result: Any) -> str:
    data = _as_dict(result)
    parts = [
        _("%(n)s candidates", n=number(data.get("candidates_inserted", 0))),
        _("%(n)s job openings", n=number(data.get("jobs_inserted", 0))),
    ]
    if data.get("candidates_skipped") or data.get("jobs_skipped"):
        skipped = data.get("candidates_skipped", 0) + data.get("jobs_skipped", 0)
        parts.append(_("%(n)s already existed", n=number(skipped)))
    return _("%(parts)s in %(seconds)s s", parts=", ".join(parts), seconds=f"{data.get('seconds', 0):.1f}")


def _import(cli: CliContext, kind: str, file: Path, fmt: str | None) -> None:
    from adflux.cli.campaigns import wait_for_task

    task = cli.client.upload(f"/{kind}/import", file, fmt=fmt)  # 202: imported by a background task
    run = wait_for_task(cli, task, _("Importing"))
    if run["status"] != "succeeded" or not run.get("result"):
        raise click.ClickException(run.get("error") or "The import failed without a report")
    report = run["result"]
    if cli.as_json:
        print_json(report)
    else:
        console.print(
            _(
                "[green]%(created)s created[/], [cyan]%(updated)s updated[/], [red]%(failed)s rejected[/]",
                created=report["created"],
                updated=report["updated"],
                failed=report["failed"],
            )
        )
        if report["errors"]:
            print_table(
                _("Rejected rows"),
                [
                    (N_("Where"), _where),
                    (N_("Ref"), "external_ref"),
                    (N_("Reason"), "reason"),
                ],
                report["errors"],
            )
    if report["failed"]:
        # Good rows were kept; a non-zero exit tells scripts that some were not.
        raise SystemExit(2)


_FORMAT = click.Choice(["csv", "json", "jsonl", "ndjson", "xml"])


@click.command("import-jobs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=_FORMAT, help=N_("Override detection from the file name."))
@pass_cli
def import_jobs(cli: CliContext, file: Path, fmt: str | None) -> None:
    """Import job openings from a CSV, JSON or XML feed (idempotent by external_ref)."""
    _import(cli, "jobs", file, fmt)


@click.command("import-candidates")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=_FORMAT, help=N_("Override detection from the file name."))
@pass_cli
def import_candidates(cli: CliContext, file: Path, fmt: str | None) -> None:
    """Import candidates from a CSV or JSON file (idempotent by external_ref)."""
    _import(cli, "candidates", file, fmt)


def register(group: click.Group) -> None:
    group.add_command(seed)
    group.add_command(import_jobs)
    group.add_command(import_candidates)
