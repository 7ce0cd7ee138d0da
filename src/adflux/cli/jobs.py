"""Viewing job openings and candidates."""

from __future__ import annotations

from typing import Any

import click

from adflux.cli import CliContext, pass_cli
from adflux.cli.output import cop, page_caption, print_json, print_table, status_name


def _salary(row: dict[str, Any]) -> str:
    if row.get("salary_min") is None and row.get("salary_max") is None:
        return "a convenir"
    return f"{cop(row.get('salary_min'))} – {cop(row.get('salary_max'))}"


@click.command("view-jobs")
@click.option("--status", type=click.Choice(["open", "closed"]))
@click.option("--city")
@click.option("--category")
@click.option("--modality", type=click.Choice(["presencial", "remoto", "hibrido"]))
@click.option("-q", "--search", "q", help="Text search in title, company and description.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def view_jobs(cli: CliContext, **filters: Any) -> None:
    """List job openings."""
    page = cli.client.get("/jobs", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        "Ofertas de empleo",
        [
            ("ID", "id"),
            ("Título", "title"),
            ("Empresa", "company"),
            ("Ciudad", "city"),
            ("Categoría", "category"),
            ("Modalidad", "modality"),
            ("Salario", _salary),
            ("Estado", lambda r: status_name(r["status"])),
        ],
        page["items"],
        caption=page_caption(page),
    )


@click.command("view-candidates")
@click.option("--segment-id", type=click.IntRange(min=1), help="Only the members of this segment.")
@click.option("--city")
@click.option("--education-level")
@click.option("--category", "desired_category")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def view_candidates(cli: CliContext, **filters: Any) -> None:
    """List candidates (optionally one segment's members)."""
    page = cli.client.get("/candidates", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        "Candidatos",
        [
            ("ID", "id"),
            ("Ref", "external_ref"),
            ("Ciudad", "city"),
            ("Educación", "education_level"),
            ("Exp. (años)", "years_experience"),
            ("Categoría deseada", "desired_category"),
            ("Modalidad", "desired_modality"),
            ("Salario esperado", lambda r: cop(r.get("expected_salary"))),
        ],
        page["items"],
        caption=page_caption(page),
    )


def register(group: click.Group) -> None:
    group.add_command(view_jobs)
    group.add_command(view_candidates)
