"""Viewing job openings and candidates."""

from __future__ import annotations

from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import (
    CATEGORY,
    CATEGORY_NAMES_EN,
    EDUCATION,
    EDUCATION_NAMES_EN,
    MODALITY,
    MODALITY_NAMES_EN,
    named,
    statuses,
)
from adflux.cli.output import cop, page_caption, print_json, print_table, status_name
from adflux.constants import JOB_STATUSES


def _salary(row: dict[str, Any]) -> str:
    if row.get("salary_min") is None and row.get("salary_max") is None:
        return "a convenir"
    return f"{cop(row.get('salary_min'))} – {cop(row.get('salary_max'))}"


@click.command("view-jobs")
@click.option("--status", type=statuses(JOB_STATUSES))
@click.option("--city")
@click.option("--category", type=CATEGORY)
@click.option("--modality", type=MODALITY)
@click.option("-q", "--search", "q", help=N_("Text search in title, company and description."))
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def view_jobs(cli: CliContext, **filters: Any) -> None:
    """List job openings."""
    page = cli.client.get("/jobs", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Job openings"),
        [
            (N_("ID"), "id"),
            (N_("Title"), "title"),
            (N_("Company"), "company"),
            (N_("City"), "city"),
            (N_("Category"), lambda r: named(CATEGORY_NAMES_EN, r["category"])),
            (N_("Modality"), lambda r: named(MODALITY_NAMES_EN, r["modality"])),
            (N_("Salary"), _salary),
            (N_("Status"), lambda r: status_name(r["status"])),
        ],
        page["items"],
        caption=page_caption(page),
        hide_first=("Modality", "Company", "Category"),
    )


@click.command("view-candidates")
@click.option("--segment-id", type=click.IntRange(min=1), help=N_("Only the members of this segment."))
@click.option("--city")
@click.option("--education-level", type=EDUCATION)
@click.option("--category", "desired_category", type=CATEGORY)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--cursor", help=N_("Continue after a previous page (its caption shows --cursor): fast at any depth.")
)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@pass_cli
def view_candidates(cli: CliContext, **filters: Any) -> None:
    """List candidates (optionally one segment's members)."""
    page = cli.client.get("/candidates", **filters)
    if cli.as_json:
        return print_json(page)
    print_table(
        _("Candidates"),
        [
            (N_("ID"), "id"),
            (N_("Ref"), "external_ref"),
            (N_("City"), "city"),
            (N_("Education"), lambda r: named(EDUCATION_NAMES_EN, r["education_level"])),
            (N_("Exp. (years)"), "years_experience"),
            (
                N_("Wanted category"),
                lambda r: named(CATEGORY_NAMES_EN, r["desired_category"]),
            ),
            (N_("Modality"), lambda r: named(MODALITY_NAMES_EN, r["desired_modality"])),
            (N_("Expected salary"), lambda r: cop(r.get("expected_salary"))),
        ],
        page["items"],
        caption=page_caption(page),
        hide_first=("Modality", "Ref", "Wanted category"),
    )


def register(group: click.Group) -> None:
    group.add_command(view_jobs)
    group.add_command(view_candidates)
