"""Segments and segmentation models from the command line: view, train, list, activate, drift."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.campaigns import wait_for_task
from adflux.cli.choices import statuses
from adflux.cli.output import (
    bogota_time,
    console,
    cop,
    number,
    page_caption,
    percent,
    print_json,
    print_table,
    score,
    status_name,
)
from adflux.constants import PLATFORM_LABELS, SEGMENTATION_MODEL_STATUSES
from adflux.settings import Settings


def _percent(share: float | None) -> str:
    return percent(share, digits=1)


def _top(entries: list[dict[str, Any]] | None, n: int = 2) -> str:
    return ", ".join(str(e.get("label") or e.get("value")) for e in (entries or [])[:n])


@click.command("view-segments")
@click.option("--version", type=click.IntRange(min=1), help=N_("Model version (default: the active one)."))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=50, show_default=True)
@pass_cli
def view_segments(cli: CliContext, **args: Any) -> None:
    """List the segments of the active model (or of --version)."""
    page = cli.client.get("/segments", **args)
    if cli.as_json:
        return print_json(page)
    version = page["items"][0]["model_version"] if page["items"] else args.get("version")
    print_table(
        _("Segments of model v%(version)s", version=version),
        [
            (N_("ID"), "id"),
            (N_("Segment"), "name"),
            (N_("Size"), lambda r: number(r["size"])),
            (N_("Share"), lambda r: _percent(r["share"])),
            (N_("Cities"), lambda r: _top(r["profile"].get("top_cities"))),
            (N_("Median salary"), lambda r: cop(r["profile"].get("median_expected_salary"))),
            (N_("Skills"), lambda r: _top(r["profile"].get("top_skills"), 3)),
            (N_("Not available on"), _unavailable),
        ],
        page["items"],
        caption=page_caption(page),
        hide_first=("Skills", "Median salary", "Cities"),
    )
    _explain_unavailable(page["items"])


def _unavailable(row: dict[str, Any]) -> str:
    return ", ".join(PLATFORM_LABELS.get(u["platform"], u["platform"]) for u in row["unavailable_platforms"])


def _explain_unavailable(rows: list[dict[str, Any]]) -> None:
    """One line per platform minimum that leaves a segment out, so the table's column reads."""
    minimums = {u["platform"]: u["minimum"] for row in rows for u in row.get("unavailable_platforms", [])}
    if minimums:
        needs = ", ".join(f"{PLATFORM_LABELS.get(p, p)} {number(m)}" for p, m in minimums.items())
        console.print(
            _(
                "A segment smaller than a platform's minimum custom audience is not offered there "
                "(minimums: %(needs)s people).",
                needs=needs,
            )
        )


@click.command("train-segments")
@click.option("--k-min", type=click.IntRange(2, 50), help=N_("Smallest k to try (default: configured)."))
@click.option("--k-max", type=click.IntRange(2, 50), help=N_("Largest k to try (default: configured)."))
@click.option("--force", is_flag=True, help=N_("Activate the new version even if it scores worse."))
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--no-wait", is_flag=True, help=N_("Return at once with the task id."))
@pass_cli
def train_segments(
    cli: CliContext, k_min: int | None, k_max: int | None, force: bool, seed: int, no_wait: bool
) -> None:
    """Train a new segmentation model version and follow its progress."""
    if not no_wait:
        _start_early_read(cli)
    body = {
        "force": force,
        "seed": seed,
        **({"k_min": k_min} if k_min else {}),
        **({"k_max": k_max} if k_max else {}),
    }
    task = cli.client.post("/segmentation/train", json=body)
    if no_wait:
        return (
            print_json(task) if cli.as_json else console.print(_("task %(task_id)s", task_id=task["task_id"]))
        )
    run = wait_for_task(cli, task, _("Training"))
    if run["status"] == "failed":
        raise click.ClickException(_("training failed: %(get)s", get=run.get("error")))
    result = run.get("result") or {}
    if result.get("error"):
        raise click.ClickException(_("training failed: %(error)s", error=result["error"]))
    model = cli.client.get(f"/segmentation/models/{result['version']}")
    if cli.as_json:
        return print_json({"task": run, "model": model})
    _show_model(model)


def _start_early_read(cli: CliContext) -> None:
    """In-process and without a broker the training runs here: start reading the candidates now.

    The COPY runs on the database server while this process imports the app and the ML stack
    (seconds at a million candidates), and the same thread builds the model's input frame and
    fits its feature steps; the training then takes what was read and built. The console script
    (`adflux.command_line`) usually started it already, before importing the CLI.
    """
    if cli.api_url or cli.has_app:  # remote, or the app (and its imports) is already there
        return
    from adflux.services.candidate_read import start_for_training

    settings = Settings.from_env()
    settings.validate()  # a bad setting is a one-line error (`AdfluxGroup`), before any read
    # The training dates the model's input (ages) by the year it starts in: the same year here,
    # unless the year turns in between (then the training builds its frame itself).
    start_for_training(settings, reference_year=datetime.now(UTC).year)


models_group = click.Group(
    "models", help=N_("Segmentation model versions: list, show, activate (roll back).")
)


@models_group.command("list")
@click.option("--status", type=statuses(SEGMENTATION_MODEL_STATUSES))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def list_models(cli: CliContext, **args: Any) -> None:
    """List model versions, newest first."""
    page = cli.client.get("/segmentation/models", **args)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Segmentation models"),
        [
            (N_("Version"), "version"),
            (N_("Status"), lambda r: status_name(r["status"])),
            (N_("k"), "k"),
            (N_("Silhouette"), lambda r: score(r["silhouette"])),
            (N_("Davies–Bouldin"), lambda r: score(r["davies_bouldin"])),
            (N_("People ARI"), lambda r: score(r["persona_ari"])),
            (N_("Candidates"), lambda r: number(r["training_size"])),
            (N_("Created on (Bogotá)"), lambda r: bogota_time(r.get("created_at"))),
            (N_("Notes"), "notes"),
        ],
        page["items"],
        caption=page_caption(page),
    )


@models_group.command("show")
@click.argument("version", type=click.IntRange(min=1))
@pass_cli
def show_model(cli: CliContext, version: int) -> None:
    """Show one model version with its k search."""
    model = cli.client.get(f"/segmentation/models/{version}")
    print_json(model) if cli.as_json else _show_model(model)


@models_group.command("activate")
@click.argument("version", type=click.IntRange(min=1))
@pass_cli
def activate_model(cli: CliContext, version: int) -> None:
    """Activate VERSION (roll back or forward); every candidate is re-assigned."""
    model = cli.client.post(f"/segmentation/models/{version}/activate")
    if cli.as_json:
        return print_json(model)
    console.print(
        _(
            "Model v%(version)s active (k=%(k)s, silhouette %(silhouette)s)",
            version=model["version"],
            k=model["k"],
            silhouette=score(model["silhouette"]),
        )
    )


@click.command("drift")
@click.option("--refresh", is_flag=True, help=N_("Recompute now instead of showing the last record."))
@pass_cli
def drift(cli: CliContext, refresh: bool) -> None:
    """Show how far today's candidates drifted from the active model's training data."""
    report = cli.client.get("/segmentation/drift", refresh="true" if refresh else None)
    if cli.as_json:
        return print_json(report)
    console.print(
        _(
            "Model v%(model_version)s · drift %(score)s ([bold]%(status)s[/]) · computed %(value)s",
            model_version=report["model_version"],
            score=f"{report['score']:.3f}",
            status=report["status"],
            value=str(report.get("computed_at", ""))[:19],
        )
    )
    rows = [{"feature": name, **values} for name, values in report["features"].items()]
    segments = report.get("segments")
    if segments:
        rows.append({"feature": "segment shares", "psi": segments["psi"], "status": segments["status"]})
    print_table(
        _("PSI by variable"),
        [(N_("Variable"), "feature"), (N_("PSI"), lambda r: score(r["psi"])), (N_("Status"), "status")],
        rows,
    )
    _show_share_shifts(report)


def _show_share_shifts(report: dict[str, Any]) -> None:
    segments = report.get("segments") or {}
    names = report.get("shifted_segment_names") or []
    if not segments or "shifts" not in segments:
        return
    limit = 100 * float(segments.get("share_shift_threshold", 0.03))
    if not names:
        console.print(_("No segment changed its share by more than %(limit)s points.", limit=f"{limit:.0f}"))
        return
    shifts = [100 * segments["shifts"][index] for index in report.get("shifted_segments", [])]
    moved = ", ".join(f"{name} ({shift:+.1f} pts)" for name, shift in zip(names, shifts, strict=False))
    console.print(
        _(
            "[bold]Segments that moved more than %(limit)s points:[/] %(moved)s",
            limit=f"{limit:.0f}",
            moved=moved,
        )
    )


def _show_model(model: dict[str, Any]) -> None:
    console.print(
        _(
            "[bold]Model v%(version)s[/] · %(status)s · k=%(k)s · silhouette %(silhouette)s · persona "
            "ARI %(persona_ari)s",
            version=model["version"],
            status=status_name(model["status"]),
            k=model["k"],
            silhouette=score(model["silhouette"]),
            persona_ari=score(model["persona_ari"]),
        )
    )
    if model.get("notes"):
        console.print(model["notes"])
    chosen = model["k"]
    print_table(
        _("Search for k"),
        [
            (N_("k"), lambda r: f"{r['k']} ←" if r["k"] == chosen else r["k"]),
            (N_("Silhouette"), lambda r: score(r.get("silhouette"))),
            (N_("Davies–Bouldin"), lambda r: score(r.get("davies_bouldin"))),
            (N_("Calinski–Harabasz"), lambda r: score(r.get("calinski_harabasz"), 0)),
            (N_("Inertia"), lambda r: score(r.get("inertia"), 0)),
            (N_("Worst segment"), lambda r: score(r.get("min_cluster_silhouette"))),
        ],
        (model.get("metrics") or {}).get("k_search", []),
    )
    selection = (model.get("metrics") or {}).get("k_selection") or {}
    if selection.get("threshold") is not None:
        console.print(
            _(
                "k=%(chosen)s: the largest k with every segment well formed (silhouette of each segment "
                ">= %(threshold)s); the silhouette alone would have chosen k=%(get)s.",
                chosen=chosen,
                threshold=score(selection["threshold"]),
                get=selection.get("by_silhouette_alone"),
            )
        )


def register(group: click.Group) -> None:
    group.add_command(view_segments)
    group.add_command(train_segments)
    group.add_command(models_group)
    group.add_command(drift)
