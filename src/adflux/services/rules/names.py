"""What rules and pacing call things: each code's English name, a catalogue msgid.

One vocabulary for every face: the dashboard shows these names lazily (`_l`), the CLI through
`name_of`, both in the reader's language (Spanish by default). A code without a name (one added on
the server after a client was installed) shows as itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from adflux.catalogue import N_
from adflux.catalogue import gettext as _

METRIC_NAMES = {
    "spend": N_("Spend"),
    "applications": N_("Applications"),
    "cpa": N_("CPA"),
    "ctr": N_("CTR"),
    "cpc": N_("CPC"),
    "frequency": N_("Frequency"),
    "pacing": N_("Pace"),
    "days_left": N_("Days left"),
}
ACTION_NAMES = {
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "budget": N_("Change daily budget"),
    "notify": N_("Notify"),
}
COUNT_NAMES = {
    "platform": N_("As each platform reports them"),
    "first_hand": N_("First-hand (the portal's postbacks)"),
}
CPA_MODE_NAMES = {
    "lag_aware": N_("lag-corrected, with its uncertainty"),
    "matured": N_("matured days only"),
    "raw": N_("as reported"),
}
DECISION_STATUS_NAMES = {"applied": N_("Applied"), "failed": N_("Failed"), "recorded": N_("Recorded")}
PACING_WARNING_NAMES = {
    "cannot_land": N_("Will not reach the total budget (audience too small or platform under-delivering)"),
    "no_end_date": N_("No end date: a monthly cap applies"),
    "ahead": N_("Spending ahead of plan"),
    "behind": N_("Spending behind plan"),
    "ended": N_("The flight has ended"),
}
LEVEL_NAMES = {"campaign": N_("campaign"), "platform_campaign": N_("platform"), "ad_group": N_("ad group")}
EVIDENCE_NAMES = {
    "cpa": N_("CPA"),
    "cpa_low": N_("CPA (lowest likely)"),
    "cpa_high": N_("CPA (highest likely)"),
    "spend": N_("Spend"),
    "applications_expected": N_("Applications expected once matured"),
}


def name_of(names: Mapping[str, str], code: str | None, missing: str = "—") -> str:
    """`code`'s name in the current language; the code itself if it has none; `missing` for no code."""
    if not code:
        return missing
    name = names.get(code)
    return _(name) if name else code
