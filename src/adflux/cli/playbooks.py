"""Playbooks from the command line: add, list, test (dry run), enable, disable, remove (via the API)."""

from __future__ import annotations

import unicodedata
from typing import Any

import click

from adflux.catalogue import N_, ngettext
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.campaigns import _csv_list
from adflux.cli.choices import CATEGORY_NAMES_EN, MODALITY_NAMES_EN, OBJECTIVE, named
from adflux.cli.feeds import yes_no
from adflux.cli.output import console, cop, number, print_json, print_table
from adflux.constants import JOB_CATEGORY_LABELS, MODALITY_LABELS, PLATFORM_LABELS, PLATFORMS

LIST_CONDITIONS = (
    ("categories", N_("Category")),
    ("cities", N_("City")),
    ("departments", N_("Department")),
    ("companies", N_("Company")),
    ("modalities", N_("Modality")),
    ("keywords", N_("Keywords")),
)
SHOWN_OPENINGS = 20


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().replace("_", " ").split())


# A category or modality as a playbook stores it (its code, or the Spanish label typed) → its code.
_CATEGORY_CODES = {_fold(code): code for code in JOB_CATEGORY_LABELS} | {
    _fold(label): code for code, label in JOB_CATEGORY_LABELS.items()
}
_MODALITY_CODES = {_fold(code): code for code in MODALITY_LABELS} | {
    _fold(label): code for code, label in MODALITY_LABELS.items()
}


def _label(codes: dict[str, str], names_en: dict[str, str], value: str) -> str:
    code = codes.get(_fold(value))
    return named(names_en, code) if code else value


def _list_values(name: str, values: list[str]) -> str:
    if name == "categories":
        return ", ".join(_label(_CATEGORY_CODES, CATEGORY_NAMES_EN, v) for v in values)
    if name == "modalities":
        return ", ".join(_label(_MODALITY_CODES, MODALITY_NAMES_EN, v) for v in values)
    if name == "keywords":
        return ", ".join(f"«{v}»" for v in values)
    return ", ".join(values)


def _years(n: int) -> str:
    return ngettext("%(num)d year", "%(num)d years", n)


def conditions_text(conditions: dict[str, Any]) -> str:
    """'Categoría: Salud · Ciudad: Bogotá · Salario desde $ 2.000.000' (none: every opening)."""
    parts = [
        f"{_(label)}: {_list_values(name, conditions[name])}"
        for name, label in LIST_CONDITIONS
        if conditions.get(name)
    ]
    if conditions.get("salary_min") is not None:
        parts.append(_("Salary from %(amount)s", amount=cop(conditions["salary_min"])))
    if conditions.get("salary_max") is not None:
        parts.append(_("Salary up to %(amount)s", amount=cop(conditions["salary_max"])))
    if conditions.get("experience_min") is not None:
        parts.append(_("Experience of at least %(years)s", years=_years(conditions["experience_min"])))
    if conditions.get("experience_max") is not None:
        parts.append(_("Experience of at most %(years)s", years=_years(conditions["experience_max"])))
    return " · ".join(parts) if parts else _("Every job opening")


def _platforms(codes: list[str]) -> str:
    return ", ".join(PLATFORM_LABELS.get(p, p) for p in codes)


def _budget(playbook: dict[str, Any]) -> str:
    if playbook.get("budget_formula"):
        return _("formula: %(formula)s", formula=playbook["budget_formula"])
    return cop(playbook.get("budget_total"))


def _flight(days: int | None) -> str:
    if not days:
        return _("until it closes")
    return ngettext("%(num)d day", "%(num)d days", days)


def _audience(playbook: dict[str, Any]) -> str:
    if playbook.get("segment_ids"):
        return _("segments %(ids)s", ids=", ".join(map(str, playbook["segment_ids"])))
    if playbook.get("best_segments"):
        return _("the category's %(n)s best segments", n=playbook["best_segments"])
    return _("broad audience")


def _conditions(opts: dict[str, Any]) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    for name, option in (
        ("categories", "category"),
        ("cities", "city"),
        ("departments", "department"),
        ("companies", "company"),
        ("modalities", "modality"),
        ("keywords", "keyword"),
    ):
        if opts[option]:
            conditions[name] = list(opts[option])
    for name in ("salary_min", "salary_max", "experience_min", "experience_max"):
        if opts[name] is not None:
            conditions[name] = opts[name]
    return conditions


def _body(opts: dict[str, Any]) -> dict[str, Any]:
    if (opts["budget"] is None) == (opts["budget_formula"] is None):
        raise click.ClickException(_("give --budget COP or --budget-formula (one of the two)"))
    if opts["segment_ids"] and opts["best_segments"]:
        raise click.ClickException(_("give --segment-ids or --best-segments, not both"))
    platforms = _csv_list(opts["platforms"])
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown or not platforms:
        raise click.ClickException(
            _(
                "unknown platforms: %(value)s; use %(PLATFORMS)s",
                value=", ".join(unknown) or _("(none)"),
                PLATFORMS=", ".join(PLATFORMS),
            )
        )
    body: dict[str, Any] = {
        "name": opts["name"],
        "platforms": platforms,
        "conditions": _conditions(opts),
        "segment_ids": _csv_list(opts["segment_ids"], int),
        "best_segments": opts["best_segments"],
        "budget_total": opts["budget"],
        "budget_formula": opts["budget_formula"],
        "budget_daily": opts["daily_budget"],
        "flight_days": opts["flight_days"],
        "target_cpa": opts["target_cpa"],
        "objective": opts["objective"],
        "requires_approval": opts["approval"],
        "enabled": not opts["disabled"],
    }
    if opts["position"] is not None:
        body["position"] = opts["position"]
    return body


def show_playbooks(playbooks: list[dict[str, Any]], title: str | None = None) -> None:
    print_table(
        title or _("Playbooks (in the order they are tried)"),
        [
            (N_("Pos."), "position"),
            (N_("ID"), "id"),
            (N_("Name"), "name"),
            (N_("Enabled"), lambda r: yes_no(r["enabled"])),
            (N_("Conditions"), lambda r: conditions_text(r.get("conditions") or {})),
            (N_("Platforms"), lambda r: _platforms(r["platforms"])),
            (N_("Budget"), _budget),
            (N_("Daily"), lambda r: cop(r.get("budget_daily"))),
            (N_("Duration"), lambda r: _flight(r.get("flight_days"))),
            (N_("Audience"), _audience),
            (N_("Approval"), lambda r: yes_no(r.get("requires_approval"))),
        ],
        playbooks,
    )


@click.group("playbooks")
def playbooks_group() -> None:
    """Playbooks (which openings get which campaigns): add, list, test, enable, disable, remove."""


@playbooks_group.command("add")
@click.option("--name", required=True, help=N_("A name for the playbook (unique)."))
@click.option("--platforms", required=True, help=N_("Comma-separated: meta,google,x,tiktok,snapchat"))
@click.option("--category", help=N_("Only openings of this category (repeatable)."), multiple=True)
@click.option("--city", help=N_("Only openings in this city (repeatable)."), multiple=True)
@click.option("--department", help=N_("Only openings in this department (repeatable)."), multiple=True)
@click.option("--company", help=N_("Only openings of this company (repeatable)."), multiple=True)
@click.option("--modality", help=N_("presencial, remoto or hibrido (repeatable)."), multiple=True)
@click.option(
    "--keyword", help=N_("Only openings whose title or description has it (repeatable)."), multiple=True
)
@click.option("--salary-min", type=click.IntRange(min=0), help=N_("Paying at least this much, COP."))
@click.option("--salary-max", type=click.IntRange(min=0), help=N_("Paying at most this much, COP."))
@click.option("--experience-min", type=click.IntRange(min=0), help=N_("Asking at least these years."))
@click.option("--experience-max", type=click.IntRange(min=0), help=N_("Asking at most these years."))
@click.option("--segment-ids", help=N_("Comma-separated segment ids."))
@click.option("--best-segments", type=click.IntRange(1, 20), help=N_("The best K segments for the category."))
@click.option("--budget", type=click.IntRange(min=1), help=N_("Total budget per opening, COP."))
@click.option("--budget-formula", help=N_('E.g. "salary_max * 0.5" (salary_min, salary_max, salary, ...).'))
@click.option("--daily-budget", type=click.IntRange(min=1), help=N_("Daily budget, COP."))
@click.option(
    "--flight-days", type=click.IntRange(1, 365), help=N_("Days to run (default: until it closes).")
)
@click.option("--target-cpa", type=click.IntRange(min=1), help=N_("Target cost per application, COP."))
@click.option("--objective", type=OBJECTIVE, default="traffic", show_default=True)
@click.option("--approval", is_flag=True, help=N_("A manager approves each campaign before it is published."))
@click.option("--position", type=click.IntRange(min=0), help=N_("Lower is tried first."))
@click.option("--disabled", is_flag=True, help=N_("Save it switched off."))
@pass_cli
def add(cli: CliContext, **opts: Any) -> None:
    """Save a playbook: conditions on the opening, and the campaign it gets."""
    playbook = cli.client.post("/playbooks", json=_body(opts))
    if cli.as_json:
        return print_json(playbook)
    show_playbooks([playbook], title=_("Playbook %(id)s saved", id=playbook["id"]))
    console.print(
        _("Simulate what it would do with [bold]adflux playbooks test %(id)s[/].", id=playbook["id"])
    )


@playbooks_group.command("list")
@pass_cli
def list_playbooks(cli: CliContext) -> None:
    """Playbooks in the order they are tried (the first that matches an opening wins)."""
    playbooks = cli.client.get("/playbooks")
    if cli.as_json:
        return print_json(playbooks)
    show_playbooks(playbooks)


@playbooks_group.command("test")
@click.argument("playbook_id", type=click.IntRange(min=1), required=False)
@click.option("--limit", type=click.IntRange(1, 500), default=SHOWN_OPENINGS, show_default=True)
@pass_cli
def test(cli: CliContext, playbook_id: int | None, limit: int) -> None:
    """Dry run: which open openings each playbook would take and what it would spend (creates nothing)."""
    result = cli.client.get("/playbooks/dry-run", playbook_id=playbook_id, limit=limit)
    if cli.as_json:
        return print_json(result)
    print_table(
        _("Simulation by playbook (nothing is created)"),
        [
            (N_("ID"), "playbook_id"),
            (N_("Playbook"), "name"),
            (N_("Openings"), lambda r: number(r["openings"])),
            (N_("Openings skipped"), lambda r: number(r["skipped"])),
            (N_("Total budget"), lambda r: cop(r["budget_total"])),
        ],
        result["playbooks"],
    )
    openings = result["openings"]
    if not openings:
        return console.print(_("No active playbook takes open openings without a campaign."))
    print_table(
        _("First %(openings)s openings", openings=len(openings)),
        [
            (N_("Opening"), "job_id"),
            (N_("Title"), "title"),
            (N_("City"), "city"),
            (N_("Playbook"), "playbook_name"),
            (N_("Platforms"), lambda r: _platforms(r.get("platforms") or [])),
            (N_("Budget"), lambda r: "—" if r.get("skip") else cop(r.get("budget_total"))),
            (N_("Skipped because"), lambda r: r.get("skip") or ""),
        ],
        openings,
    )


def _switch(name: str, enabled: bool, help: str, said: str) -> None:
    @playbooks_group.command(name, help=help)
    @click.argument("playbook_id", type=click.IntRange(min=1))
    @pass_cli
    def command(cli: CliContext, playbook_id: int) -> None:
        playbook = cli.client.patch(f"/playbooks/{playbook_id}", json={"enabled": enabled})
        if cli.as_json:
            return print_json(playbook)
        console.print(_(said, id=playbook["id"], name=playbook["name"]))


_switch("enable", True, N_("Enable a playbook."), N_("Playbook %(id)s «%(name)s» switched on."))
_switch("disable", False, N_("Disable a playbook."), N_("Playbook %(id)s «%(name)s» switched off."))


@playbooks_group.command("remove")
@click.argument("playbook_id", type=click.IntRange(min=1))
@pass_cli
def remove(cli: CliContext, playbook_id: int) -> None:
    """Delete a playbook (its campaigns stay)."""
    cli.client.request("DELETE", f"/playbooks/{playbook_id}")
    if cli.as_json:
        return print_json({"id": playbook_id, "deleted": True})
    console.print(_("Playbook %(playbook_id)s deleted; its campaigns are kept.", playbook_id=playbook_id))


def register(group: click.Group) -> None:
    group.add_command(playbooks_group)
