"""The dashboard's whole-number and peso formats equal Babel's own, in every language it speaks."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_currency, format_decimal

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
