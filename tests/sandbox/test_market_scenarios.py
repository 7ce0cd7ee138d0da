"""The market: diminishing returns, under-delivery, attribution lag, determinism, scenario files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from adflux.sandbox.market import GroupTraits, deliver, impressions_for
from adflux.sandbox.scenario import DEFAULT, ScenarioError, load_scenario
from adflux.sandbox.simulator import campaign_days, current_market, use_market
from adflux.sandbox.units import Unit

BENCH_SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
DAY = date(2026, 3, 2)  # a Monday
TECH = GroupTraits("g1", "tiktok", "joven_digital", "tecnologia", 1.8, 1.0)


def _applications(traits: GroupTraits, budget: float, days: int = 28, seed: int = 0) -> int:
    return sum(
        deliver(DEFAULT, seed, traits, DAY + timedelta(days=n), budget).applications for n in range(days)
    )


def test_twice_the_budget_buys_less_than_twice_the_applications():
    small, large = _applications(TECH, 100_000), _applications(TECH, 400_000)
    assert large > small
    assert large < 4 * small * 0.9


def test_a_budget_beyond_the_audience_under_delivers():
    bought, cost = impressions_for(DEFAULT, TECH, DAY, 50_000_000)
    market = DEFAULT.platforms["tiktok"]
    assert bought == pytest.approx(market.audience * DEFAULT.audience_profile["joven_digital"] * 4.0)
    assert cost < 50_000_000 / 3
    delivery = deliver(DEFAULT, 0, TECH, DAY, 50_000_000)
    assert delivery.spend < 50_000_000 / 3


def test_applications_arrive_over_days_and_reports_restate_them():
    delivery = deliver(DEFAULT, 0, TECH, DAY, 300_000)
    reported = [delivery.reported(age) for age in range(0, 12)]
    assert reported == sorted(reported)
    assert reported[0] == 0 and reported[1] < delivery.applications == reported[-1]


def test_same_seed_same_numbers_other_seed_other_numbers():
    assert deliver(DEFAULT, 3, TECH, DAY, 200_000) == deliver(DEFAULT, 3, TECH, DAY, 200_000)
    assert deliver(DEFAULT, 3, TECH, DAY, 200_000) != deliver(DEFAULT, 4, TECH, DAY, 200_000)


def test_weekends_bring_less_traffic_than_weekdays():
    weekday = sum(
        deliver(DEFAULT, 0, TECH, DAY + timedelta(days=7 * w), 2_000_000).impressions for w in range(8)
    )
    weekend = sum(
        deliver(DEFAULT, 0, TECH, DAY + timedelta(days=7 * w + 5), 2_000_000).impressions for w in range(8)
    )
    assert weekend < weekday * 0.95


def test_sandbox_reports_yesterday_with_only_the_applications_credited_so_far():
    unit = Unit(
        "tiktok", "a", "c", "g", 300_000, interests=("software",), texts=["Desarrollador de software"]
    )
    unit.history.append((DAY, True))
    early = campaign_days([unit], DAY, DAY, today=DAY + timedelta(days=1))["g"][DAY]
    late = campaign_days([unit], DAY, DAY, today=DAY + timedelta(days=20))["g"][DAY]
    assert early.spend_micros == late.spend_micros
    assert early.applications < late.applications


@pytest.mark.parametrize("path", sorted(BENCH_SCENARIOS.glob("*.json")), ids=lambda p: p.stem)
def test_bench_scenarios_load_and_differ_from_the_default(path: Path):
    scenario = load_scenario(path)
    if path.stem == "default":
        assert scenario == DEFAULT
    else:
        assert scenario != DEFAULT


def test_a_scenario_drives_the_sandbox_until_another_is_chosen(tmp_path: Path):
    data = DEFAULT.to_json()
    data["platforms"]["tiktok"]["cvr"] = 0.0
    path = tmp_path / "dead.json"
    path.write_text(json.dumps(data))
    unit = Unit(
        "tiktok", "a", "c", "g", 300_000, interests=("software",), texts=["Desarrollador de software"]
    )
    unit.history.append((DAY, True))
    try:
        use_market(load_scenario(path), seed=1)
        dead = campaign_days([unit], DAY, DAY + timedelta(days=6), today=DAY + timedelta(days=30))["g"]
        assert sum(m.applications for m in dead.values()) == 0
    finally:
        use_market(DEFAULT, 0)
    assert current_market() == (DEFAULT, 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(lag=[0.5, 0.2]), "lag shares must add up to 1"),
        (lambda d: d["platforms"].pop("x"), "platforms must have one entry"),
        (lambda d: d["platforms"]["meta"].update(ctr="high"), "platforms.meta.ctr must be a number"),
        (lambda d: d.update(weekday=[1, 1]), "weekday must be a list of 7 numbers"),
    ],
)
def test_a_malformed_scenario_is_refused_naming_the_field(tmp_path: Path, change, message):
    data = DEFAULT.to_json()
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(ScenarioError, match="not JSON"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")
