"""Searches people type: accents and case ignored, "Bogotá" finds "Bogotá D.C.", "enfermera"
finds "enfermero".

A city is resolved to the stored spellings of the known Colombian cities it names (so the
indexed ``city`` column is compared exactly); a text search matches every word typed, each by its
stem (gender and plural endings dropped), in any of the given columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import QueryableAttribute

from adflux.models import folded
from adflux.models.text_folding import fold
from adflux.simulation.geography import CITIES

_MIN_STEM = 4
__all__ = ["city_names", "fold", "like_pattern", "search_terms", "stem", "text_matches"]


def _city_key(name: str) -> str:
    return " ".join(fold(name).replace("d.c.", " ").replace(",", " ").split())


_KNOWN_CITIES: dict[str, str] = {_city_key(city.name): city.name for city in CITIES}


def city_names(typed: str) -> list[str]:
    """The stored spellings a typed city can mean: "bogota" -> ["Bogotá D.C."].

    A known city typed in part ("villavo" is not, "santa" is: Santa Marta) resolves to every known
    city it begins; anything else is taken as typed, plus its known spelling if it has one.
    """
    key = _city_key(typed)
    if not key:
        return []
    exact = _KNOWN_CITIES.get(key)
    if exact:
        return [exact]
    starting = sorted(
        name for known, name in _KNOWN_CITIES.items() if len(key) >= 3 and known.startswith(key)
    )
    return starting or [typed.strip()]


def stem(word: str) -> str:
    """A Spanish word without its plural and gender ending: "enfermeras" -> "enfermer"."""
    for ending in ("es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            word = word[: -len(ending)]
            break
    if word[-1:] in ("a", "o") and len(word) - 1 >= _MIN_STEM:
        word = word[:-1]
    return word


def search_terms(typed: str) -> list[str]:
    """The stems of the words typed, folded: "Enfermera Jefe" -> ["enfermer", "jefe"]."""
    return [stem(word) for word in fold(typed).split()]


def like_pattern(term: str) -> str:
    """A LIKE pattern (escape character backslash) finding `term` anywhere in a text."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_matches(columns: Sequence[QueryableAttribute[str]], typed: str) -> ColumnElement[bool]:
    """Every word typed (by its stem) appears, accent- and case-blind, in one of ``columns``.

    Text with no letters or digits a fold keeps (emoji, other scripts) is looked for as typed.
    """
    terms = search_terms(typed) or [typed.strip().lower()]
    return and_(
        *(
            or_(*(folded(column).like(like_pattern(term), escape="\\") for column in columns))
            for term in terms
        )
    )
