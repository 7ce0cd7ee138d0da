"""Rules (add, list, test, backtest, enable, disable) and pacing from the command line, via the API."""

from __future__ import annotations

import json
from typing import Any

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli
from adflux.cli.choices import APPLICATIONS_SOURCE, PACING_MODE, RULE_LEVEL, RULE_TEMPLATE
from adflux.cli.output import console, cop, number, print_json, print_table
from adflux.services.rules.names import (
    ACTION_NAMES,
    COUNT_NAMES,
    CPA_MODE_NAMES,
    EVIDENCE_NAMES,
    LEVEL_NAMES,
    METRIC_NAMES,
    PACING_WARNING_NAMES,
    name_of,
)


def _number_es(value: float) -> str:
    return number(value) if abs(value) >= 100 else f"{value:g}".replace(".", ",")


def rule_text(spec: dict[str, Any]) -> str:
    """'CPA > $ 30.000 (7 días) y Gasto ≥ $ 40.000 (7 días) → Pausar'."""
    joiner = _(" and ") if spec.get("combine", "all") == "all" else _(" or ")
    parts = []
    for c in spec.get("conditions", []):
        money = c["metric"] in ("spend", "cpa", "cpc")
        value = cop(c["value"]) if money else _number_es(c["value"])
        parts.append(
            _(
                "%(metric)s %(op)s %(value)s (%(days)s days)",
                metric=name_of(METRIC_NAMES, c["metric"]),
                op=c["op"],
                value=value,
                days=c.get("window", 7),
            )
        )
    action = spec.get("action", {})
    label = name_of(ACTION_NAMES, action.get("kind"))
    if action.get("percent") is not None:
        label += f" {action['percent']:+g} %"
    elif action.get("amount") is not None:
        label += f" {'+' if action['amount'] >= 0 else '−'}{cop(abs(action['amount']))}"
    return f"{joiner.join(parts)} → {label}"


def _applications_count(rule: dict[str, Any]) -> str:
    return name_of(COUNT_NAMES, rule["spec"].get("applications_source") or "platform")


def show_rules(rules: list[dict[str, Any]], title: str | None = None) -> None:
    print_table(
        title or _("Rules"),
        [
            (N_("ID"), "id"),
            (N_("Rule"), "name"),
            (N_("Campaign"), lambda r: r.get("campaign_id") or _("all")),
            (N_("Level"), lambda r: name_of(LEVEL_NAMES, r["level"])),
            (N_("Conditions → action"), lambda r: rule_text(r["spec"])),
            (N_("CPA"), lambda r: name_of(CPA_MODE_NAMES, r["spec"].get("cpa_mode"), "")),
            (N_("Applications"), _applications_count),
            (N_("Active"), lambda r: _("yes") if r["enabled"] else _("no")),
        ],
        rules,
    )


@click.group("rules")
def rules_group() -> None:
    """Automated actions on the numbers (lag-aware); backtest before enabling."""


@rules_group.command("add")
@click.option("--name", required=True, help=N_("A name for the rule."))
@click.option(
    "--campaign", "campaign_id", type=click.IntRange(min=1), help=N_("Only this campaign (default: all).")
)
@click.option("--template", type=RULE_TEMPLATE, help=N_("Sized from the campaign's target CPA."))
@click.option(
    "--spec", help=N_('JSON rule: {"conditions": [...], "action": {...}, ...} (docs: TECHNICAL_DOCS).')
)
@click.option("--level", type=RULE_LEVEL)
@click.option(
    "--count",
    "applications_source",
    type=APPLICATIONS_SOURCE,
    help=N_(
        "Applications the rule counts: as each platform reports them (the default) or first-hand "
        "(those the job site reports to AdFlux)."
    ),
)
@pass_cli
def add(
    cli: CliContext,
    name: str,
    campaign_id: int | None,
    template: str | None,
    spec: str | None,
    level: str | None,
    applications_source: str | None,
) -> None:
    """Save a rule (disabled: backtest it, then enable it)."""
    body: dict[str, Any] = {
        "name": name,
        "campaign_id": campaign_id,
        "template": template,
        "applications_source": applications_source,
    }
    if spec:
        try:
            body["spec"] = json.loads(spec)
        except json.JSONDecodeError as error:
            raise click.ClickException(_("--spec is not JSON: %(msg)s", msg=error.msg)) from None
    if level:
        body["level"] = level
    rule = cli.client.post("/rules", json={k: v for k, v in body.items() if v is not None})
    if cli.as_json:
        return print_json(rule)
    show_rules([rule], title=_("Rule %(id)s saved (disabled)", id=rule["id"]))
    console.print(
        _(
            "Try it with [bold]adflux rules backtest %(id)s --campaign ID[/] and switch it on with "
            "[bold]adflux rules enable %(id)s[/].",
            id=rule["id"],
        )
    )


@rules_group.command("list")
@pass_cli
def list_rules(cli: CliContext) -> None:
    """Every rule, enabled or not."""
    rules = cli.client.get("/rules")
    if cli.as_json:
        return print_json(rules)
    show_rules(rules)


def _evidence(evidence: dict[str, Any]) -> str:
    parts = []
    for key in ("cpa", "cpa_low", "cpa_high", "spend", "applications_expected"):
        if evidence.get(key) is not None:
            value = (
                cop(evidence[key]) if key != "applications_expected" else _number_es(round(evidence[key], 1))
            )
            parts.append(f"{name_of(EVIDENCE_NAMES, key)}: {value}")
    return " · ".join(parts)


@rules_group.command("test")
@click.argument("rule_id", type=click.IntRange(min=1))
@click.option("--campaign", "campaign_id", type=click.IntRange(min=1), required=True)
@pass_cli
def test(cli: CliContext, rule_id: int, campaign_id: int) -> None:
    """What the rule would do on the campaign today (nothing is done)."""
    decisions = cli.client.get(f"/rules/{rule_id}/test", campaign_id=campaign_id)
    if cli.as_json:
        return print_json(decisions)
    if not decisions:
        return console.print(_("Today the rule would do nothing on this campaign."))
    print_table(
        _("What it would do today (nothing is done)"),
        [
            (N_("Group"), lambda r: r.get("ad_group_id") or "—"),
            (N_("Action"), lambda r: name_of(ACTION_NAMES, r["action"])),
            (N_("Budget"), lambda r: f"{cop(r['budget_before'])} → {cop(r['budget_after'])}"),
            (N_("Figures"), lambda r: _evidence(r["evidence"])),
        ],
        decisions,
    )


@rules_group.command("backtest")
@click.argument("rule_id", type=click.IntRange(min=1))
@click.option("--campaign", "campaign_id", type=click.IntRange(min=1), required=True)
@click.option("--days", type=click.IntRange(1, 90), default=28, show_default=True)
@pass_cli
def backtest(cli: CliContext, rule_id: int, campaign_id: int, days: int) -> None:
    """Replay the rule on the campaign's last N days, applications matured as the lag says."""
    result = cli.client.get(f"/rules/{rule_id}/backtest", campaign_id=campaign_id, days=days)
    if cli.as_json:
        return print_json(result)
    console.print(
        _(
            "Last %(days)s days: spend %(spend)s, %(applications)s applications (mature), CPA "
            "%(cpa_before)s → with the rule %(cpa_after)s.",
            days=days,
            spend=cop(result["spend"]),
            applications=_number_es(result["applications"]),
            cpa_before=cop(result["cpa_before"]),
            cpa_after=cop(result["cpa_after"]),
        )
    )
    console.print(
        _(
            "It would have saved %(spend_saved)s and lost %(applications_lost)s applications.",
            spend_saved=cop(result["spend_saved"]),
            applications_lost=_number_es(round(result["applications_lost"], 1)),
        )
    )
    if result["decisions"]:
        print_table(
            _("Decisions it would have taken"),
            [
                (N_("Day"), "date"),
                (N_("Group"), lambda r: r.get("ad_group_id") or "—"),
                (N_("Action"), lambda r: name_of(ACTION_NAMES, r["action"])),
                (N_("Figures"), lambda r: _evidence(r["evidence"])),
            ],
            result["decisions"],
        )


def _switch(name: str, enabled: bool, help: str) -> None:
    @rules_group.command(name, help=help)
    @click.argument("rule_id", type=click.IntRange(min=1))
    @pass_cli
    def command(cli: CliContext, rule_id: int) -> None:
        rule = cli.client.patch(f"/rules/{rule_id}", json={"enabled": enabled})
        if cli.as_json:
            return print_json(rule)
        console.print(
            _(
                "Rule %(rule_id)s «%(name)s» %(value)s.",
                rule_id=rule_id,
                name=rule["name"],
                value=_("switched on") if enabled else _("switched off"),
            )
        )


_switch("enable", True, N_("Enable a rule (it acts after every metrics sync)."))
_switch("disable", False, N_("Disable a rule."))


@click.command("pacing")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--mode", type=PACING_MODE, help=N_("Turn pacing on: even or front-loaded."))
@click.option(
    "--monthly-cap", type=click.IntRange(min=1), help=N_("Without an end date: the most per month, COP.")
)
@click.option("--off", is_flag=True, help=N_("Turn pacing off."))
@pass_cli
def pacing(cli: CliContext, campaign_id: int, mode: str | None, monthly_cap: int | None, off: bool) -> None:
    """A campaign's pacing: planned vs spent, today's daily budget and warnings; --mode/--off change it."""
    if mode or off or monthly_cap:
        body = {"mode": mode or "even", "enabled": not off, "monthly_cap": monthly_cap}
        state = cli.client.request("PUT", f"/pacing/{campaign_id}", json=body)
    else:
        state = cli.client.get(f"/pacing/{campaign_id}")
    if cli.as_json:
        return print_json(state)
    mode_es = _("evenly") if state["mode"] == "even" else _("front-loaded")
    console.print(
        _(
            "Campaign %(campaign_id)s · pacing %(mode_es)s · %(value)s",
            campaign_id=campaign_id,
            mode_es=mode_es,
            value=_("on") if state["enabled"] else _("off"),
        )
    )
    console.print(
        _(
            "Spent %(spent)s of %(budget_total)s (planned to date %(planned_to_date)s); %(remaining)s "
            "left over %(days_left)s days.",
            spent=cop(state["spent"]),
            budget_total=cop(state["budget_total"]),
            planned_to_date=cop(state["planned_to_date"]),
            remaining=cop(state["remaining"]),
            days_left=number(state["days_left"]),
        )
    )
    console.print(_("Today's daily budget: %(daily_budget)s", daily_budget=cop(state["daily_budget"])))
    for warning in state["warnings"]:
        console.print(_("[yellow]Warning:[/] %(warning)s", warning=name_of(PACING_WARNING_NAMES, warning)))


def register(group: click.Group) -> None:
    group.add_command(rules_group)
    group.add_command(pacing)
