"""Exact conversions between AdFlux's whole COP pesos and each platform's money fields."""

from __future__ import annotations

from decimal import Decimal

MICROS_PER_PESO = 1_000_000


def to_micros(pesos: int) -> int:
    """Whole pesos to micros (Google ``amount_micros``, X ``*_local_micro``, Snap ``*_micro``)."""
    return int(pesos) * MICROS_PER_PESO


def meta_amount(pesos: int) -> int:
    """Meta budgets are in the currency's minor unit; COP has offset 1, so minor unit = peso."""
    return int(pesos)


def tiktok_amount(pesos: int) -> float:
    """TikTok takes a decimal number in the account currency; whole pesos are exact as floats."""
    return float(int(pesos))


def decimal_to_micros(value: str | float | int | Decimal) -> int:
    """A decimal amount of pesos (as reported by Meta/TikTok insights) to integer micros."""
    return int((Decimal(str(value)) * MICROS_PER_PESO).to_integral_value())
