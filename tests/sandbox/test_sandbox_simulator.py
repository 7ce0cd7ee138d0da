"""The performance simulator: deterministic, consistent, and with hidden affinities that matter."""

from __future__ import annotations

from datetime import date, timedelta

from adflux.sandbox.simulator import campaign_days, category_of, profile_of, simulate_day
from adflux.sandbox.state import Unit

DAY = date(2025, 3, 4)


def _unit(
    platform: str = "tiktok",
    interests: tuple[str, ...] = ("software",),
    text: str = "Desarrollador de software",
    **extra: object,
) -> Unit:
    unit = Unit(
        platform=platform,
        account="a",
        campaign_id="c",
        group_id=f"{platform}-{interests}",
        daily_budget=50_000,
        interests=interests,
        texts=[text],
        **extra,
    )  # type: ignore[arg-type]
    unit.history.append((date(2025, 3, 1), True))
    return unit


def test_same_inputs_give_the_same_numbers():
    assert simulate_day(_unit(), DAY) == simulate_day(_unit(), DAY)
    assert simulate_day(_unit(), DAY) != simulate_day(_unit(), DAY + timedelta(days=1))


def test_funnel_is_consistent_and_spend_stays_within_the_daily_budget():
    for platform in ("meta", "google", "x", "tiktok", "snapchat"):
        for offset in range(14):
            metrics = simulate_day(_unit(platform), DAY + timedelta(days=offset))
            assert metrics.impressions >= metrics.reach >= 0
            assert metrics.impressions >= metrics.clicks >= metrics.applications >= 0
            assert 0 < metrics.spend_micros <= 50_000 * 1_000_000


def test_profile_and_category_are_read_from_targeting_and_text():
    assert profile_of(_unit(interests=("logística", "bodega"))) == "operativo"
    assert profile_of(_unit(interests=())) == "amplio"
    assert category_of(_unit(text="Auxiliar de enfermería")) == "salud"


def test_hidden_affinities_make_the_right_segment_win_on_the_right_platform():
    def applications(platform: str, interests: tuple[str, ...], text: str) -> int:
        unit = _unit(platform, interests, text)
        return sum(simulate_day(unit, DAY + timedelta(days=n)).applications for n in range(28))

    tech_on_tiktok = applications("tiktok", ("software", "programación"), "Desarrollador de software")
    pros_on_tiktok = applications("tiktok", ("contabilidad", "finanzas"), "Desarrollador de software")
    assert tech_on_tiktok > pros_on_tiktok


def test_lifetime_cap_stops_spend():
    unit = _unit(campaign_cap=120_000)

    days = campaign_days([unit], date(2025, 3, 1), date(2025, 3, 20), today=date(2025, 3, 21))

    assert sum(metrics.spend_micros for metrics in days[unit.group_id].values()) <= 120_000 * 1_000_000
    assert days[unit.group_id][date(2025, 3, 1)].spend_micros > 0
    assert (
        date(2025, 3, 10) not in days[unit.group_id]
        or days[unit.group_id][date(2025, 3, 10)].spend_micros == 0
    )
