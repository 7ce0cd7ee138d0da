"""Each budget move the allocator makes, with the numbers behind it, explained in plain Spanish.

A move is an ad group whose daily budget changed. Its explanation compares the CPA the ad group's
learned curve expects at its new budget with that of the ad group it took money from (or gave
money to): "TikTok · Operativos 18–24: +$ 40.000/día, CPA $ 5.100 frente a $ 9.400 en Meta".
The sentence is a template with named fields, so a face can pass the translated one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from adflux.optimization.allocation_model import Posterior

Array = NDArray[np.float64]

TEMPLATE_UP = "{group}: +{delta}/día, CPA {cpa} frente a {other_cpa} en {other}"
TEMPLATE_DOWN = "{group}: −{delta}/día, CPA {cpa} frente a {other_cpa} en {other}"
MIN_MOVE = 1_000  # pesos: smaller changes are rounding, not moves


@dataclass(frozen=True)
class Move:
    """One ad group's budget change and the comparison that explains it."""

    index: int
    before: int
    after: int
    cpa: float | None  # expected at the new budget (pesos per application)
    other: int | None  # index of the ad group it is compared with
    other_cpa: float | None

    @property
    def delta(self) -> int:
        """Change in pesos a day."""
        return self.after - self.before


def pesos(value: float) -> str:
    """Whole pesos the Colombian way: "$ 40.000"."""
    return "$ " + f"{round(value):,}".replace(",", ".")


def expected_cpa(posterior: Posterior, budget: float) -> float | None:
    """Budget over the applications the learned curve expects at it."""
    applications = float(posterior.expected(budget)[0])
    return budget / applications if budget > 0 and applications > 0 else None


def moves(before: Array, after: Array, posteriors: Sequence[Posterior]) -> list[Move]:
    """The moves from ``before`` to ``after``, largest first."""
    before, after = np.asarray(before, float), np.asarray(after, float)
    cpas = [expected_cpa(p, b) for p, b in zip(posteriors, after, strict=True)]
    delta = after - before
    out = []
    for i in np.argsort(-np.abs(delta)):
        if abs(delta[i]) < MIN_MOVE:
            continue
        # An increase is compared with the ad group that lost most, a cut with the one that gained most.
        other = int(np.argmin(delta)) if delta[i] > 0 else int(np.argmax(delta))
        partner = other if other != i and delta[other] * delta[i] < 0 else None
        out.append(
            Move(
                index=int(i),
                before=round(before[i]),
                after=round(after[i]),
                cpa=cpas[i],
                other=partner,
                other_cpa=cpas[partner] if partner is not None else None,
            )
        )
    return out


def explain(
    move: Move,
    labels: Sequence[str],
    platforms: Sequence[str],
    *,
    up: str = TEMPLATE_UP,
    down: str = TEMPLATE_DOWN,
    money: Callable[[float], str] = pesos,
) -> str:
    """One sentence for a move; ``labels`` name ad groups, ``platforms`` their platforms' labels."""
    template = up if move.delta > 0 else down
    other_name = platforms[move.other] if move.other is not None else "—"
    if move.other is not None and platforms[move.other] == platforms[move.index]:
        other_name = labels[move.other]
    return template.format(
        group=labels[move.index],
        delta=money(abs(move.delta)),
        cpa=money(move.cpa) if move.cpa is not None else "—",
        other_cpa=money(move.other_cpa) if move.other_cpa is not None else "—",
        other=other_name,
    )
