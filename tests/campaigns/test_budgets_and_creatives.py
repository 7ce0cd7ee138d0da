"""Budgets split exactly; ad copy stays within each platform's limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adflux.constants import PLATFORMS
from adflux.models import JobOpening
from adflux.services.budgets import split_budget
from adflux.services.creatives import LIMITS, generate_creative, tracked_link


@given(st.integers(0, 10**12), st.lists(st.floats(0.01, 100), min_size=1, max_size=5))
def test_split_never_loses_or_invents_a_peso(total, weights):
    parts = split_budget(total, weights)
    assert sum(parts) == total and all(p >= 0 for p in parts)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - total * weight / sum(weights)) <= 1


def test_even_split_hands_leftovers_to_the_first():
    assert split_budget(100, [1, 1, 1]) == [34, 33, 33]


def _job(**overrides) -> JobOpening:
    values = dict(
        title="Ingeniero de software senior para plataforma de pagos en línea",
        company="Pagos Rápidos de Colombia S.A.S.",
        city="Barranquilla",
        department="Atlántico",
        category="tecnologia",
        modality="hibrido",
        salary_min=9_000_000,
        salary_max=14_000_000,
        apply_url="https://empleos.example.co/ofertas/9?ref=feed&utm_source=old",
    )
    values.update(overrides)
    return JobOpening(**values)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_generated_copy_fits_each_platform(platform):
    creative = generate_creative(_job(), platform=platform, campaign_id=12)
    limits = LIMITS[platform]
    assert len(creative.headline) <= limits.headline
    assert len(creative.primary_text) <= limits.primary_text
    if creative.description is not None:
        assert len(creative.description) <= limits.description
    assert "utm_source=" + platform in creative.link_url and "utm_campaign=adflux-12" in creative.link_url
    assert "utm_source=old" not in creative.link_url and "ref=feed" in creative.link_url
    if platform == "google":
        assert 3 <= len(creative.extra["headlines"]) <= 15
        assert all(len(h) <= 30 for h in creative.extra["headlines"])
        assert all(len(d) <= 90 for d in creative.extra["descriptions"])


def test_salary_is_shown_only_when_published():
    with_salary = generate_creative(_job(title="Cajero"), platform="meta", campaign_id=1)
    assert "$ 9.000.000 – $ 14.000.000" in with_salary.primary_text
    hidden = generate_creative(
        _job(title="Cajero", salary_min=None, salary_max=None), platform="meta", campaign_id=1
    )
    assert "$" not in hidden.primary_text


def test_tracked_link_keeps_fragment():
    assert tracked_link("https://x.co/a#b", platform="x", campaign_id=3, medium="cpc").endswith("#b")
