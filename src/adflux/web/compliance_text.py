"""A platform's compliance report in plain words for a marketer: one line, then each change once.

The report (platforms/compliance) repeats a note per ad group and speaks the platforms' field
names; here notes are merged across ad groups and said as what happens to the audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# (criterion, action) -> (a few words for the line, what it means in the folded detail).
CHANGE_TEXT: dict[tuple[str, str], tuple[Any, Any]] = {
    ("special_ad_categories", "added"): (
        _l("job ad declared"),
        _l("declared as a job ad, as the platform requires"),
    ),
    ("special_industries", "added"): (
        _l("job ad declared"),
        _l("declared as a job ad, as the platform requires"),
    ),
    ("age", "widened"): (
        _l("every adult age"),
        _l("shown to every adult age (job ads cannot be limited by age)"),
    ),
    ("age", "dropped"): (_l("no age limit"), _l("no age limit (the platform forbids it for job ads)")),
    ("gender", "dropped"): (_l("every gender"), _l("shown to every gender")),
    ("city", "widened"): (_l("wider cities"), _l("cities widened to the area around them")),
    ("country", "dropped"): (_l("other countries out"), _l("other countries left out")),
    ("interest", "dropped"): (_l("some interests out"), _l("some interests left out")),
    ("interest", "kept"): (_l("interests as keywords"), _l("interests used as keywords")),
    ("custom_audience", "kept"): (_l("consenting audience"), _l("audience of consenting candidates used")),
    ("postal_code", "dropped"): (_l("postal codes out"), _l("postal codes left out")),
    ("excluded_location", "dropped"): (_l("exclusions out"), _l("excluded places left out")),
    ("excluded_interest", "dropped"): (_l("exclusions out"), _l("exclusions left out")),
    ("lookalike", "dropped"): (_l("similar audiences out"), _l("similar audiences left out")),
}
ADJUSTED = (_l("adjusted"), _l("a targeting option was adjusted"))
# Notes whose value is a platform code, not something a marketer chose.
DECLARATIONS = frozenset({"special_ad_categories", "special_industries"})
# Notes that only say the audience is fine as it is: not worth a line of their own.
ROUTINE = frozenset({("custom_audience", "kept")})


def compliance_summary(ad_groups: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """{"line": one sentence, "changes": [{"short", "text", "examples", "groups"}], "ok": unlimited}."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for group in ad_groups:
        for note in group.get("compliance") or []:
            key = (note.get("criterion", ""), note.get("action", ""))
            item = merged.setdefault(key, {"examples": [], "groups": []})
            value = note.get("value")
            if value and value not in item["examples"] and key[0] not in DECLARATIONS:
                item["examples"].append(value)
            if group.get("name") not in item["groups"]:
                item["groups"].append(group.get("name"))
    changes = []
    for key, item in merged.items():
        if key not in ROUTINE:
            short, text = CHANGE_TEXT.get(key, ADJUSTED)
            changes.append({"short": str(short), "text": str(text), **item})
    limited = any(action in ("dropped", "widened") for _criterion, action in merged)
    if not changes:
        line = _("Ready: nothing had to change for this platform's rules.")
    else:
        shorts = dict.fromkeys(c["short"] for c in changes)
        line = _("Ready, with changes: %(changes)s.", changes=", ".join(shorts))
    return {"line": line, "changes": changes, "ok": not limited}
