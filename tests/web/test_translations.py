"""The Spanish catalogue is complete and its compiled .mo matches the .po (both are committed)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS = Path(__file__).resolve().parents[2] / "src" / "adflux" / "translations"


def _catalogue(path: Path, locale: str | None = None):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _translated(message) -> bool:  # type: ignore[no-untyped-def]
    """Every form filled: a plural entry's msgstr is a tuple, truthy even when its forms are empty."""
    if message is None:
        return False
    forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return all(forms)


def test_every_dashboard_string_has_a_reviewed_spanish_translation():
    template = _catalogue(TRANSLATIONS / "messages.pot")
    spanish = _catalogue(TRANSLATIONS / "es_CO" / "LC_MESSAGES" / "messages.po", "es_CO")
    wanted = {m.id for m in template if m.id}
    missing = sorted(map(str, (i for i in wanted if not _translated(spanish.get(i)))))
    fuzzy = sorted(m.id for m in spanish if m.id and m.fuzzy)
    assert missing == [] and fuzzy == [], "run the pybabel steps in src/adflux/translations/README.md"


def test_the_compiled_catalogue_is_up_to_date():
    spanish = _catalogue(TRANSLATIONS / "es_CO" / "LC_MESSAGES" / "messages.po", "es_CO")
    with (TRANSLATIONS / "es_CO" / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = Translations(f)
    stale = [m.id for m in spanish if m.id and isinstance(m.id, str) and compiled.gettext(m.id) != m.string]
    stale += [
        m.id
        for m in spanish
        if m.id
        and isinstance(m.id, tuple)
        and tuple(compiled.ngettext(m.id[0], m.id[1], n) for n in (1, 2)) != tuple(m.string)
    ]
    assert stale == [], "recompile: pybabel compile -d src/adflux/translations"
