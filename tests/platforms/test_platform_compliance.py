"""Employment-ad compliance: what each platform may receive, and a report of every change."""

from __future__ import annotations

import pytest

from adflux.constants import PLATFORMS
from adflux.platforms.compliance import ADFLUX_POLICY, PLATFORM_RULE, plan_all, plan_targeting
from adflux.platforms.types import JobContext, TargetingSpec

JOB = JobContext(title="Auxiliar contable", category="contabilidad_finanzas", city="Medellín")
EVERYTHING = TargetingSpec(
    age_min=25,
    age_max=35,
    genders=("female",),
    cities=("Medellín", "Pueblito Inventado"),
    postal_codes=("050021",),
    interests=("contabilidad", "mujeres emprendedoras"),
    excluded_interests=("deportes",),
    excluded_cities=("Bello",),
    lookalike=True,
    custom_audience_id="555",
)


def _actions(plan) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for note in plan.notes:
        found.setdefault(note.criterion, set()).add(note.action)
    return found


def test_meta_fixes_age_drops_gender_zip_exclusions_lookalike_and_widens_cities():
    plan = plan_targeting("meta", JOB, EVERYTHING)
    targeting = plan.targeting

    assert (targeting.age_min, targeting.age_max) == (18, 65)
    assert targeting.special_ad_categories == ("EMPLOYMENT",)
    assert targeting.special_ad_category_country == ("CO",)
    assert [city.radius_km for city in targeting.cities] == [25]
    actions = _actions(plan)
    assert actions["age"] == {"widened"}
    for criterion in ("gender", "postal_code", "excluded_interest", "excluded_location", "lookalike"):
        assert actions[criterion] == {"dropped"}
    assert all(note.source in (PLATFORM_RULE, ADFLUX_POLICY) for note in plan.notes)


def test_google_drops_age_and_gender_and_keeps_interests_as_keywords():
    plan = plan_targeting("google", JOB, EVERYTHING)

    assert plan.targeting.age_min is None and plan.targeting.age_max is None
    assert plan.targeting.interests == ("contabilidad",)
    assert _actions(plan)["age"] == {"dropped"}


def test_tiktok_allows_adults_only_and_no_interest_keywords():
    plan = plan_targeting("tiktok", JOB, EVERYTHING)

    assert (plan.targeting.age_min, plan.targeting.age_max) == (18, None)
    assert plan.targeting.interests == ()
    assert plan.targeting.special_ad_categories == ("EMPLOYMENT",)
    assert "interest" in _actions(plan)


@pytest.mark.parametrize("platform", ["x", "snapchat"])
def test_x_and_snapchat_rules_are_marked_as_adflux_policy(platform):
    plan = plan_targeting(platform, JOB, EVERYTHING)

    gender = next(note for note in plan.notes if note.criterion == "gender")
    assert gender.source == ADFLUX_POLICY and "unverified" in gender.reason


@pytest.mark.parametrize("platform", PLATFORMS)
def test_interests_standing_in_for_protected_attributes_are_dropped_everywhere(platform):
    plan = plan_targeting(platform, JOB, EVERYTHING)

    assert "mujeres emprendedoras" not in plan.targeting.interests
    assert any(note.value == "mujeres emprendedoras" and note.action == "dropped" for note in plan.notes)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_nothing_is_dropped_silently(platform):
    plan = plan_targeting(platform, JOB, EVERYTHING)
    noted = {(note.criterion, note.value) for note in plan.notes}

    assert ("city", "Pueblito Inventado") in noted  # unknown city: widened to the country, and said so
    assert ("postal_code", "050021") in noted
    assert ("excluded_location", "Bello") in noted
    kept_interests = set(plan.targeting.interests)
    for interest in EVERYTHING.interests:
        assert interest in kept_interests or any(note.value == interest for note in plan.notes)


def test_broad_targeting_changes_nothing_but_adds_the_special_category():
    plans = plan_all(JOB, TargetingSpec())

    assert not any(plan.changed for plan in plans.values())
    assert [note.criterion for note in plans["meta"].notes] == ["special_ad_categories"]
    assert plans["google"].notes == []
