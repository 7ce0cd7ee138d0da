"""The dashboard's whole-number, peso and percentage formats equal Babel's own, in every language."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_currency, format_decimal, format_percent

from adflux.web import formatting


@pytest.mark.parametrize("locale", ["es_CO", "en", "es", "en_US"])
def test_whole_numbers_and_pesos_are_written_exactly_as_babel_writes_them(app, locale, monkeypatch):
    monkeypatch.setattr(formatting, "_locale", lambda: locale)
    rng = random.Random(7)
    values = [
        0,
        1,
        -1,
        999,
        1000,
        -1000,
        123456789,
        -987654321,
        *(rng.randint(-(10**12), 10**12) for _ in range(500)),
    ]
    for value in values:
        assert formatting.number(value) == format_decimal(value, locale=locale)
        babel = format_currency(value, "COP", format="¤ #,##0", locale=locale, currency_digits=False)
        assert formatting.cop(value) == babel
        assert formatting.cop(value + 0.4) == babel  # whole pesos: rounded first
    assert formatting.number(12.5) == format_decimal(12.5, locale=locale)  # fractions: Babel's own path


@pytest.mark.parametrize("locale", ["es_CO", "en", "es", "en_US"])
def test_percentages_are_written_exactly_as_babel_writes_them(app, locale):
    """Babel's own rounding (its decimal of str(ratio), half to even), symbols, sign and grouping."""
    rng = random.Random(11)
    values = [0, 1, -1, 0.0, -0.0, 0.5, 0.00005, 0.000125, 0.012345, 0.0125, 0.015, 2.675, 1e-9, -1e-5, 1e20,
              123456.789, 7, *(rng.random() for _ in range(400)), *(rng.uniform(-50, 50) for _ in range(200)),
              *(round(rng.random(), 5) for _ in range(200)),
              *(rng.random() * 10 ** rng.randint(-12, 12) for _ in range(200))]  # fmt: skip
    for digits in (0, 1, 2, 3):
        pattern = "#,##0." + "0" * digits + " %" if digits else "#,##0 %"
        for value in values:
            expected = format_percent(value, format=pattern, locale=locale)
            assert formatting.percent(value, digits, locale=locale) == expected, (value, digits)
    assert formatting.percent(float("nan"), locale=locale) == format_percent(
        float("nan"), "#,##0.00 %", locale
    )
    assert formatting.percent(None) == formatting.EMPTY
