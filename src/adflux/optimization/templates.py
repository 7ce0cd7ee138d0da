"""Rule templates: stop-loss, scale winners, revive and end-of-flight, sized from a target CPA."""

from __future__ import annotations

from adflux.constants import RULE_TEMPLATES
from adflux.optimization.rules import Action, Condition, Rule

TEMPLATES = RULE_TEMPLATES


def template(name: str, target_cpa: float, *, cpa_mode: str = "lag_aware", confidence: float = 0.8) -> Rule:
    """The named template for a campaign whose target CPA is ``target_cpa`` pesos."""
    if name == "stop_loss":
        # Pause an ad group that has spent two target CPAs in a week at 1.5x the target or worse.
        return Rule(
            name="stop_loss",
            conditions=(
                Condition("spend", ">=", 2 * target_cpa, 7),
                Condition("cpa", ">", 1.5 * target_cpa, 7),
            ),
            action=Action("pause"),
            cooldown_days=1,
            cpa_mode=cpa_mode,
            confidence=confidence,
        )
    if name == "scale_winners":
        return Rule(
            name="scale_winners",
            conditions=(
                Condition("applications", ">=", 3, 7),
                Condition("cpa", "<", 0.8 * target_cpa, 7),
            ),
            action=Action("budget", percent=20),
            cooldown_days=3,
            max_change_per_day=0.3,
            cpa_mode=cpa_mode,
            confidence=confidence,
        )
    if name == "revive":
        # Resume what was paused when the applications that arrived late bring its CPA under target.
        return Rule(
            name="revive",
            conditions=(Condition("cpa", "<", target_cpa, 14),),
            action=Action("resume"),
            cooldown_days=2,
            cpa_mode=cpa_mode,
            confidence=confidence,
        )
    if name == "end_of_flight":
        return Rule(
            name="end_of_flight",
            conditions=(Condition("days_left", "<=", 3, 1), Condition("pacing", "<", 0.9, 1)),
            action=Action("notify"),
            level="campaign",
            cooldown_days=1,
            cpa_mode=cpa_mode,
            confidence=confidence,
        )
    raise ValueError(f"unknown template {name!r} (one of {', '.join(TEMPLATES)})")
