"""A feed's raw record as job-opening fields: names mapped, values normalised, fingerprinted.

Category labels become codes, "Bogotá" becomes "Bogotá D.C." (with its department), a salary
written "$2.500.000 - $3.000.000" becomes a range, an expiry date becomes the end of that day in
Bogotá, and a status such as "cubierta" closes the opening. A row that cannot be an opening says
why, in words a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adflux.catalogue import gettext as _
from adflux.constants import EDUCATION_LABELS, JOB_CATEGORY_LABELS, MODALITIES
from adflux.services.errors import ValidationFailed
from adflux.simulation.geography import CITIES

BOGOTA = ZoneInfo("America/Bogota")

# The names feeds commonly use for each field, first match wins; a feed's mapping comes first.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "external_ref": ("referencenumber", "reference", "external_ref", "id", "ref", "guid", "codigo"),
    "title": ("title", "titulo", "puesto", "cargo"),
    "company": ("company", "empresa"),
    "city": ("city", "ciudad"),
    "department": ("state", "department", "departamento", "region"),
    "category": ("category", "categoria", "area"),
    "description": ("description", "descripcion"),
    "salary": ("salary", "salario"),
    "salary_min": ("salary_min", "salario_min"),
    "salary_max": ("salary_max", "salario_max"),
    "apply_url": ("url", "apply_url", "link", "enlace"),
    "modality": ("jobtype", "modality", "modalidad"),
    "education_required": ("education", "education_required", "educacion"),
    "experience_years_min": ("experience", "experience_years_min", "experiencia"),
    "expires": ("expiration_date", "expires", "expiry", "valid_through", "fecha_cierre"),
    "status": ("status", "estado"),
    "date": ("date", "fecha"),
}
MAPPABLE_FIELDS: tuple[str, ...] = tuple(FIELD_NAMES)
_CLOSED_WORDS = {"closed", "filled", "expired", "cerrada", "cerrado", "cubierta", "cubierto", "inactive"}
_MODALITY_WORDS = {
    "remote": "remoto",
    "remoto": "remoto",
    "teletrabajo": "remoto",
    "hybrid": "hibrido",
    "hibrido": "hibrido",
    "onsite": "presencial",
    "on-site": "presencial",
}
_NUMBER = re.compile(r"\d[\d.,]*")


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how two spellings of one name are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().replace("_", " ").split())


_CATEGORIES = {fold(code): code for code in JOB_CATEGORY_LABELS} | {
    fold(label): code for code, label in JOB_CATEGORY_LABELS.items()
}
_EDUCATION = {fold(code): code for code in EDUCATION_LABELS} | {
    fold(label): code for code, label in EDUCATION_LABELS.items()
}
_CITIES: dict[str, tuple[str, str]] = {}
for _city in CITIES:
    _CITIES[fold(_city.name)] = (_city.name, _city.department)
    _CITIES.setdefault(fold(_city.name.replace(" D.C.", "")), (_city.name, _city.department))


@dataclass(frozen=True)
class FeedRecord:
    """One opening as the feed lists it: its AdFlux fields, or why the row was refused."""

    where: tuple[str, int]  # ("line", n) or ("record", n)
    external_ref: str | None
    fields: dict[str, Any]
    closed: bool = False
    expires_at: datetime | None = None
    error: str | None = None

    @property
    def fingerprint(self) -> str:
        # What the opening says (a closed or filled status is not content: it closes the opening).
        payload = json.dumps([self.fields, str(self.expires_at)], sort_keys=True, default=str)
        return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()


def category_code(value: str) -> str | None:
    """The category code a label or code names ("Logística y transporte" → logistica_transporte)."""
    return _CATEGORIES.get(fold(value))


def check_mapping(mapping: dict[str, Any]) -> dict[str, str]:
    """A feed's field mapping, or a ValidationFailed naming the fields AdFlux does not have."""
    unknown = sorted(k for k in mapping if k not in FIELD_NAMES)
    bad = sorted(k for k, v in mapping.items() if not isinstance(v, str) or not v.strip())
    if unknown or bad:
        raise ValidationFailed(
            _("The mapping names fields AdFlux does not have, or gives no feed name"),
            errors={"mapping": [f"unknown field: {k}" for k in unknown] + [f"empty name: {k}" for k in bad]},
        )
    return {k: v.strip() for k, v in mapping.items()}


def normalise(where: tuple[str, int], raw: dict[str, Any], mapping: dict[str, str]) -> FeedRecord:
    """One raw record as job-opening fields, or a refused record that says why."""
    get = _getter(raw, mapping)
    ref = _text(get("external_ref"))
    if not ref:
        return FeedRecord(where, None, {}, error="no reference (external_ref) to follow the opening by")
    if "\x00" in json.dumps(raw, default=str):
        return FeedRecord(where, ref, {}, error="NUL characters are not allowed")
    try:
        fields = _fields(get)
        expires_at = _expiry(get("expires"))
    except ValueError as exc:
        return FeedRecord(where, ref, {}, error=str(exc))
    fields["external_ref"] = ref
    closed = fold(_text(get("status"))) in _CLOSED_WORDS
    return FeedRecord(where, ref, fields, closed=closed, expires_at=expires_at)


def _getter(raw: dict[str, Any], mapping: dict[str, str]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in raw.items()}

    def get(field: str) -> Any:
        names = ((mapping[field].lower(),) if field in mapping else ()) + FIELD_NAMES[field]
        for name in names:
            value = lowered.get(name)
            if value not in (None, ""):
                return value
        return None

    return get


def _fields(get: Any) -> dict[str, Any]:
    city, department = _place(_text(get("city")), _text(get("department")))
    low, high = _salary(get)
    fields: dict[str, Any] = {
        "title": _text(get("title")),
        "company": _text(get("company")),
        "city": city,
        "department": department,
        "category": _category(_text(get("category"))),
        "description": _text(get("description")),
        "apply_url": _text(get("apply_url")),
        "modality": _modality(_text(get("modality"))),
        "salary_min": low,
        "salary_max": high,
        "experience_years_min": _whole(get("experience_years_min"), "experience") or 0,
    }
    education = _text(get("education_required"))
    if education:
        if fold(education) not in _EDUCATION:
            raise ValueError(f"unknown education level {education!r}")
        fields["education_required"] = _EDUCATION[fold(education)]
    return fields


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _place(city: str, department: str) -> tuple[str, str]:
    known = _CITIES.get(fold(city)) if city else None
    if known:
        return known[0], department or known[1]
    if not city:
        raise ValueError("no city")
    if not department:
        raise ValueError(f"city {city!r} is not one AdFlux knows; give its department (state)")
    return city, department


def _category(value: str) -> str:
    code = _CATEGORIES.get(fold(value)) if value else None
    if code is None:
        raise ValueError(f"unknown category {value!r}" if value else "no category")
    return code


def _modality(value: str) -> str:
    folded = fold(value)
    if not folded:
        return "presencial"
    if folded in MODALITIES:
        return folded
    for word, modality in _MODALITY_WORDS.items():
        if word in folded:
            return modality
    return "presencial"  # "tiempo completo", "full-time": a job type, not a place


def _whole(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    match = _NUMBER.search(str(value))
    if not match:
        raise ValueError(f"{what} {value!r} is not a number")
    return int(re.sub(r"[.,]", "", match.group()))


def _salary(get: Any) -> tuple[int | None, int | None]:
    low, high = _whole(get("salary_min"), "salary_min"), _whole(get("salary_max"), "salary_max")
    text = _text(get("salary"))
    if low is None and high is None and text:
        numbers = [int(re.sub(r"[.,]", "", n)) for n in _NUMBER.findall(text)]
        numbers = [n for n in numbers if n > 0]
        if len(numbers) == 1:
            low = high = numbers[0]
        elif len(numbers) >= 2:
            low, high = numbers[0], numbers[1]
    return low, high


def _expiry(value: Any) -> datetime | None:
    """The end of the expiry day in Bogotá (a datetime with a zone is taken as it is)."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"expiry date {text!r} is not a date (YYYY-MM-DD)") from None
        moment = datetime.combine(day + timedelta(days=1), time(), tzinfo=BOGOTA)
    if moment.tzinfo is None:
        if len(text) <= 10:
            moment = datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=BOGOTA)
        else:
            moment = moment.replace(tzinfo=BOGOTA)
    return moment.astimezone(UTC)
