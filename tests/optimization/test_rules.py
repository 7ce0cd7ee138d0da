"""Rules over arrays: AND/OR, lag-aware CPA, cooldowns, caps and validation."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.optimization.rules import Action, Condition, Panel, Rule, decide, evaluate
from adflux.optimization.templates import TEMPLATES, template

CDF = np.array([0.0, 0.4, 0.62, 0.75, 0.84, 0.9, 0.94, 0.97, 0.99] + [1.0] * 13)


def _panel(spend: list[list[float]], apps: list[list[float]], **extras: list[float]) -> Panel:
    spend_array = np.array(spend, float)
    ages = np.arange(spend_array.shape[1], 0, -1)
    return Panel(
        spend_array,
        spend_array / 10,  # impressions
        spend_array / 1_000,  # clicks
        spend_array / 20,  # reach
        np.array(apps, float),
        ages,
        {name: np.array(values, float) for name, values in extras.items()},
    )


def test_a_young_ad_group_is_paused_on_raw_cpa_but_not_on_lag_aware_cpa():
    # 3 days at 100.000: true CPA 10.000 → 30 applications once matured, 13 reported so far.
    panel = _panel([[100_000] * 3], [[7, 4, 2]])
    rule = template("stop_loss", 12_000)
    raw = Rule(**{**rule.__dict__, "cpa_mode": "raw"})
    assert evaluate(raw, panel, CDF).fired[0]  # 300.000 / 13 = 23.077 > 18.000
    assert not evaluate(rule, panel, CDF).fired[0]


def test_a_truly_bad_ad_group_is_paused_either_way():
    panel = _panel([[100_000] * 7], [[2, 1, 1, 1, 0, 0, 0]])
    assert evaluate(template("stop_loss", 12_000), panel, CDF).fired[0]


def test_all_and_any_combine_conditions():
    panel = _panel([[100_000] * 2, [1_000] * 2], [[0, 0], [0, 0]])
    spend = Condition("spend", ">", 50_000, 2)
    ctr = Condition("ctr", "<", 0.05, 2)
    assert list(evaluate(Rule("a", (spend, ctr), Action("notify")), panel, CDF).fired) == [True, False]
    both = Rule("o", (spend, ctr), Action("notify"), combine="any")
    assert list(evaluate(both, panel, CDF).fired) == [True, True]


def test_pacing_and_days_left_come_from_the_panel_extras():
    panel = _panel([[1.0], [1.0]], [[0], [0]], pacing=[0.7, 1.0], days_left=[2, 2])
    rule = template("end_of_flight", 10_000)
    assert list(evaluate(rule, panel, CDF).fired) == [True, False]
    with pytest.raises(ValueError, match="no 'days_left' figures"):
        evaluate(rule, _panel([[1.0]], [[0]]), CDF)


def test_budget_changes_respect_the_cap_and_the_cooldown():
    rule = Rule("up", (Condition("spend", ">", 0, 1),), Action("budget", percent=80), max_change_per_day=0.3)
    evaluation = evaluate(rule, _panel([[10.0], [10.0]], [[0], [0]]), CDF)
    decisions = decide(
        rule,
        evaluation,
        active=np.array([True, True]),
        budgets=np.array([100_000, 100_000]),
        days_since_action=np.array([5, 1]),
    )
    assert [(d.entity, d.budget_after) for d in decisions] == [(0, 130_000)]


def test_pause_applies_to_active_entities_and_resume_to_paused_ones():
    panel = _panel([[10.0], [10.0]], [[0], [0]])
    condition = (Condition("spend", ">=", 0, 1),)
    active = np.array([True, False])
    args = {"active": active, "budgets": np.array([1, 1]), "days_since_action": np.array([9, 9])}
    pause = Rule("p", condition, Action("pause"))
    resume = Rule("r", condition, Action("resume"))
    assert [d.entity for d in decide(pause, evaluate(pause, panel, CDF), **args)] == [0]
    assert [d.entity for d in decide(resume, evaluate(resume, panel, CDF), **args)] == [1]


def test_every_template_builds_and_a_bad_rule_says_why():
    assert all(template(name, 10_000).name == name for name in TEMPLATES)
    with pytest.raises(ValueError, match="unknown metric"):
        Condition("roas", ">", 1)
    with pytest.raises(ValueError, match="a percent or by an amount"):
        Action("budget")
    with pytest.raises(ValueError, match="combine"):
        Rule("x", (Condition("spend", ">", 1),), Action("notify"), combine="xor")
    with pytest.raises(ValueError, match="unknown template"):
        template("yolo", 1)
