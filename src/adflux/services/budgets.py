"""Splitting a budget exactly: integer pesos, no peso lost or invented."""

from __future__ import annotations

from collections.abc import Sequence

from adflux.catalogue import gettext as _
from adflux.services.errors import ValidationFailed


def split_budget(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` pesos by `weights` with the largest-remainder method; parts sum to `total`."""
    if total < 0:
        raise ValidationFailed(_("A budget cannot be negative"))
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValidationFailed(_("Budget weights must be non-negative and not all zero"))
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    parts = [int(x) for x in exact]
    remainder = total - sum(parts)
    # Hand the leftover pesos to the largest fractional parts (ties: earlier first).
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:remainder]:
        parts[i] += 1
    return parts
