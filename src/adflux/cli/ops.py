"""Operations from the command line: status, alerts, backups and clean-up."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import SEVERITY
from adflux.cli.output import (
    bogota_time,
    console,
    page_caption,
    print_json,
    print_table,
    severity_name,
    status_name,
)

_STATUS_STYLE = {"ok": "green", "degraded": "yellow", "unknown": "yellow", "fail": "bold red"}


def _styled(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


@click.command("status")
@click.option("--no-workers", is_flag=True, help=N_("Do not ping Celery workers (saves up to a second)."))
@click.option("--fresh", is_flag=True, help=N_("Ask the platforms again, not the last minute's answer."))
@pass_cli
def status(cli: CliContext, no_workers: bool, fresh: bool) -> None:
    """At-a-glance health: dependencies, workers, queues, model, open alerts, last backup.

    Exits with status 1 when AdFlux is not ready (database or broker down), so scripts can use it.
    """
    summary = cli.client.get("/status", workers=str(not no_workers).lower(), fresh=str(fresh).lower())
    if cli.as_json:
        print_json(summary)
    else:
        _print_status(summary)
    if not summary["ready"]:
        raise SystemExit(1)


def _print_status(summary: dict[str, Any]) -> None:
    table = Table(
        title=_(
            "AdFlux %(version)s — %(status)s", version=summary["version"], status=_styled(summary["status"])
        ),
        header_style="bold cyan",
        title_justify="left",
    )
    for header in ("Check", "Status", "Latency", "Detail"):
        table.add_column(header, overflow="fold")
    for check in summary["checks"]:
        name = check["name"] + ("" if check["critical"] else " [dim](informative)[/]")
        table.add_row(name, _styled(check["status"]), _ms(check.get("latency_ms")), check.get("detail") or "")
    console.print(table)

    workers = summary.get("workers")
    if workers is None:
        console.print(_("Workers: embedded mode (tasks run inline)"))
    elif workers:
        console.print(
            _("Workers: %(workers)s alive (%(workers2)s)", workers=len(workers), workers2=", ".join(workers))
        )
    else:
        console.print(_("Workers: [bold red]none answered[/]"))
    queues = summary.get("queues") or {}
    if queues:
        console.print(_("Queues: %(queues)s", queues=", ".join(f"{name} {n}" for name, n in queues.items())))
    model = summary.get("model") or {}
    if model.get("active_version") is not None:
        parts = [f"v{model['active_version']}"]
        if model.get("silhouette") is not None:
            parts.append(_("silhouette %(score)s", score=f"{model['silhouette']:.3f}"))
        if model.get("drift") is not None:
            parts.append(_("drift %(score)s", score=f"{model['drift']:.3f}"))
        console.print(_("Model: %(parts)s", parts=", ".join(parts)))
    else:
        console.print(_("Model: no active segmentation model"))
    tasks = summary.get("tasks_last_24h") or {}
    if tasks:
        console.print(
            _("Tasks (24 h): %(tasks)s", tasks=", ".join(f"{k} {v}" for k, v in sorted(tasks.items())))
        )
    backup = summary.get("last_backup")
    console.print(
        _("Last backup: %(created_at)s (%(name)s)", created_at=backup["created_at"], name=backup["name"])
        if backup
        else _("Last backup: none")
    )
    alerts = summary.get("alerts") or []
    if alerts:
        console.print(_("[bold red]%(alerts)s open alert(s)[/]:", alerts=len(alerts)))
        for alert in alerts:
            console.print(
                f"  {_severity(alert['severity'])} · {alert.get('title', alert['rule'])} · "
                f"{alert.get('about', alert['key'])}: {alert['message']}"
            )
    else:
        console.print(_("Alerts: none open"))


# ---- alerts --------------------------------------------------------------------------------------


@click.group("alerts", invoke_without_command=True)
@click.option(
    "--all", "show_all", is_flag=True, help=N_("Resolved alerts too (history), not only open ones.")
)
@click.option("--rule", help=N_("Only this rule (see `adflux alerts rules`)."))
@click.option("--severity", type=SEVERITY)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@click.pass_context
def alerts(
    ctx: click.Context, show_all: bool, rule: str | None, severity: str | None, page: int, page_size: int
) -> None:
    """Open alerts (or, with --all, the history); subcommands evaluate and export the rules."""
    if ctx.invoked_subcommand is not None:
        return
    cli = ctx.find_object(CliContext)
    if cli is None:  # only when the group is invoked outside the adflux command
        raise click.UsageError(_("run as `adflux alerts`"))
    result = cli.client.get(
        "/alerts",
        status=None if show_all else "open",
        rule=rule,
        severity=severity,
        page=page,
        page_size=page_size,
    )
    if cli.as_json:
        return print_json(result)
    if not result["items"]:
        console.print(_("No alerts.") if show_all else _("No open alerts."))
        return
    print_table(
        _("Alerts") if show_all else _("Open alerts"),
        [
            (N_("ID"), "id"),
            (N_("Severity level"), lambda r: _severity(r["severity"])),
            (N_("Alert"), lambda r: r.get("title") or r["rule"]),
            (N_("About"), lambda r: r.get("about") or r["key"]),
            (N_("Status"), lambda r: status_name(r["status"])),
            (N_("Opened (Bogotá)"), lambda r: bogota_time(r["opened_at"])),
            (N_("Resolved (Bogotá)"), lambda r: bogota_time(r.get("resolved_at"))),
            (N_("Message"), "message"),
        ],
        result["items"],
        caption=page_caption(result),
    )


SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow"}


def _severity(value: str) -> str:
    """The severity in the CLI's language, coloured as it deserves."""
    style = SEVERITY_STYLES.get(value)
    return f"[{style}]{severity_name(value)}[/]" if style else severity_name(value)


@alerts.command("rules")
@pass_cli
def alert_rules(cli: CliContext) -> None:
    """The alert rules and this deployment's thresholds."""
    rules = cli.client.get("/alerts/rules")
    if cli.as_json:
        return print_json(rules)
    print_table(
        _("Alert rules"),
        [
            (N_("Rule"), "name"),
            (N_("Severity level"), lambda r: _severity(r["severity"])),
            (N_("For"), "audience"),
            (N_("Threshold"), lambda r: "" if r["threshold"] is None else f"{r['threshold']:g}"),
            (
                N_("Setting"),
                lambda r: f"ADFLUX_{r['threshold_setting'].upper()}" if r["threshold_setting"] else "",
            ),
            (N_("Summary"), "summary"),
        ],
        rules,
    )


@alerts.command("evaluate")
@pass_cli
def alert_evaluate(cli: CliContext) -> None:
    """Evaluate every rule now and notify what is new (the scheduler does this every minute)."""
    result = cli.client.post("/alerts/evaluate")
    if cli.as_json:
        return print_json(result)
    console.print(
        _(
            "opened %(opened)s, resolved %(resolved)s, still open %(still_open)s, notifications sent "
            "%(notified)s",
            opened=len(result["opened"]),
            resolved=len(result["resolved"]),
            still_open=len(result["still_open"]),
            notified=result["notified"],
        )
        + (
            _(", [red]failed %(failed)s[/]", failed=result["notify_failures"])
            if result["notify_failures"]
            else ""
        )
    )
    for rule, error in result.get("errors", {}).items():
        console.print(_("[yellow]%(rule)s could not be evaluated:[/] %(error)s", rule=rule, error=error))


@alerts.command("export-rules")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help=N_("Write here instead of stdout.")
)
def alert_export_rules(output: str | None) -> None:
    """Print the rules as a Prometheus alerting-rules file (for Alertmanager users)."""
    from adflux.monitoring.alert_rules import export_prometheus_rules
    from adflux.settings import Settings

    text = export_prometheus_rules(Settings.from_env())
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        console.print(_("wrote %(output)s", output=output))
    else:
        click.echo(text, nl=False)


# ---- backups (added to the `adflux db` group) ------------------------------------------------------
# Local commands, not API calls: a backup is written on, and a restore replaces, the database this
# machine is configured for; neither belongs behind an HTTP endpoint.


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@click.command("backup")
@click.option("--label", help=N_("A word added to the file name (e.g. before-upgrade)."))
@pass_cli
def db_backup(cli: CliContext, label: str | None) -> None:
    """Back up the database (pg_dump -Fc on PostgreSQL, online backup on SQLite), then apply retention."""
    from adflux.services import backups

    with cli.app.app_context():
        info = backups.create_backup(label=label)
    if cli.as_json:
        return print_json(info.as_dict())
    rows = sum(n for name, n in info.tables.items() if name not in backups.BOOKKEEPING_TABLES)
    console.print(
        _(
            "Backup written: [bold]%(path)s[/] (%(size_bytes)s, %(rows)s rows, sha256 %(sha256)s)",
            path=info.path,
            size_bytes=_size(info.size_bytes),
            rows=rows,
            sha256=info.sha256,
        )
    )


@click.command("backups")
@pass_cli
def db_backups(cli: CliContext) -> None:
    """List backups, newest first."""
    from adflux.services import backups

    with cli.app.app_context():
        found = backups.list_backups()
    if cli.as_json:
        return print_json([b.as_dict() for b in found])
    print_table(
        _("Backups"),
        [
            (N_("File"), "name"),
            (N_("Created (UTC)"), lambda r: f"{r['created_at']:%Y-%m-%d %H:%M}"),
            (N_("Database"), "dialect"),
            (N_("Size"), lambda r: _size(r["size_bytes"])),
            (N_("Rows"), lambda r: sum((r.get("tables") or {}).values()) or ""),
            (N_("Revision"), "revision"),
        ],
        [b.as_dict() for b in found],
        caption=_("in %(directory)s", directory=backups.backup_dir(cli.app.extensions["adflux_settings"])),
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help=N_("Overwrite a database that already holds data."))
@pass_cli
def db_restore(cli: CliContext, file: str, force: bool) -> None:
    """Replace the database with backup FILE (stop the web server and workers first)."""
    from adflux.services import backups

    with cli.app.app_context():
        result = backups.restore_backup(path=file, force=force)
    if cli.as_json:
        return print_json(result.as_dict())
    rows = sum(n for name, n in result.tables.items() if name not in backups.BOOKKEEPING_TABLES)
    console.print(
        _(
            "Restored %(name)s: %(rows)s rows in %(tables)s tables, schema revision %(revision)s",
            name=result.backup.name,
            rows=rows,
            tables=len(result.tables),
            revision=result.revision or _("(none)"),
        )
        + (_("; replaced %(rows)s rows", rows=result.replaced_rows) if result.replaced_rows else "")
    )


@click.command("prune")
@click.option("--dry-run", is_flag=True, help=N_("Only count what would be deleted."))
@click.option("--keep-simulated", is_flag=True, help=N_("Leave simulated (SIM-*) candidates and jobs alone."))
@pass_cli
def db_prune(cli: CliContext, dry_run: bool, keep_simulated: bool) -> None:
    """Delete old task runs, resolved alerts, audit events and request stats past retention, and
    simulated data (candidates and jobs whose reference starts with SIM-, with what hangs off them)."""
    from adflux.services import maintenance

    with cli.app.app_context():
        report = maintenance.prune(dry_run=dry_run, simulated=not keep_simulated)
    if cli.as_json:
        return print_json(report.as_dict())
    rows = [
        {"what": "past retention", "table": name, "rows": n, "older than": f"{report.cutoffs[name]:%Y-%m-%d}"}
        for name, n in report.retention.items()
    ] + [
        {"what": "simulated", "table": name, "rows": n, "older than": ""}
        for name, n in report.simulated.items()
    ]
    print_table(
        _("Would delete (dry run)") if dry_run else _("Deleted"),
        [(_("What"), "what"), (_("Table"), "table"), (_("Rows"), "rows"), (_("Older than"), "older than")],
        rows,
        caption=(
            _("%(rows)s rows in all — nothing was deleted", rows=report.total)
            if dry_run
            else _("%(rows)s rows in all", rows=report.total)
        ),
    )


def register(group: click.Group) -> None:
    from adflux.cli.db import db_group

    group.add_command(status)
    group.add_command(alerts)
    for command in (db_backup, db_backups, db_restore, db_prune):
        db_group.add_command(command)
