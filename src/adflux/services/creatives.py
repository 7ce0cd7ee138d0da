"""Ad copy generated from a job opening, in Spanish, within each platform's limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from adflux.constants import JOB_CATEGORY_LABELS, MODALITY_LABELS
from adflux.models import JobOpening


@dataclass(frozen=True)
class CopyLimits:
    headline: int
    primary_text: int
    description: int | None
    call_to_action: str
    utm_medium: str


# Character limits each platform enforces (or truncates at) for the fields AdFlux fills.
LIMITS: dict[str, CopyLimits] = {
    "meta": CopyLimits(
        headline=40, primary_text=125, description=30, call_to_action="APPLY_NOW", utm_medium="paid_social"
    ),
    "google": CopyLimits(
        headline=30, primary_text=90, description=90, call_to_action="APPLY_NOW", utm_medium="cpc"
    ),
    "x": CopyLimits(
        headline=70, primary_text=257, description=None, call_to_action="APPLY_NOW", utm_medium="paid_social"
    ),
    "tiktok": CopyLimits(
        headline=40, primary_text=100, description=None, call_to_action="APPLY_NOW", utm_medium="paid_social"
    ),
    "snapchat": CopyLimits(
        headline=34, primary_text=100, description=None, call_to_action="APPLY_NOW", utm_medium="paid_social"
    ),
}
GOOGLE_HEADLINES = (3, 15)  # responsive search ads: 3 to 15 headlines of <= 30 characters
GOOGLE_DESCRIPTIONS = (2, 4)  # and 2 to 4 descriptions of <= 90


@dataclass(frozen=True)
class GeneratedCreative:
    headline: str
    primary_text: str
    description: str | None
    call_to_action: str
    link_url: str
    extra: dict[str, Any] = field(default_factory=dict)


def first_fitting(options: Iterable[str | None], limit: int) -> str | None:
    """The first wording (spaces normalised) of at most `limit` characters, longest wording first.

    Copy is fitted by choosing a shorter wording, never by cutting one: a cut text ends in a cut
    value ("Salario: $…").
    """
    for option in options:
        if option:
            text = " ".join(option.split())
            if len(text) <= limit:
                return text
    return None


def format_cop(amount: int) -> str:
    """$ 1.234.567 (Colombian thousands separator)."""
    return "$ " + f"{amount:,}".replace(",", ".")


def salary_text(job: JobOpening) -> str | None:
    """The published salary, or None when the job does not publish one."""
    if job.salary_min is None and job.salary_max is None:
        return None
    if job.salary_min is not None and job.salary_max is not None and job.salary_min != job.salary_max:
        return f"{format_cop(job.salary_min)} – {format_cop(job.salary_max)}"
    return format_cop(job.salary_min if job.salary_min is not None else job.salary_max)  # type: ignore[arg-type]


def tracked_link(
    url: str, *, platform: str, campaign_id: int, medium: str, content: str | None = None
) -> str:
    """The apply URL with UTM tags (existing query parameters kept, ours replacing theirs)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    query += [
        ("utm_source", platform),
        ("utm_medium", medium),
        ("utm_campaign", f"adflux-{campaign_id}"),
    ]
    if content:
        query.append(("utm_content", content))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def generate_creative(job: JobOpening, *, platform: str, campaign_id: int) -> GeneratedCreative:
    """Ad copy for `platform`: each field the longest wording that fits the platform's limit."""
    limits = LIMITS[platform]
    category = JOB_CATEGORY_LABELS.get(job.category, job.category)
    modality = MODALITY_LABELS.get(job.modality, job.modality)
    salary = salary_text(job)
    link = tracked_link(job.apply_url, platform=platform, campaign_id=campaign_id, medium=limits.utm_medium)
    extra: dict[str, Any] = {}
    if platform == "google":
        extra = _google_assets(job, category=category, modality=modality, salary=salary)
    elif platform in ("tiktok", "snapchat"):
        portal = urlsplit(job.apply_url).hostname or ""
        extra = {"brand_name": first_fitting([job.company, portal.removeprefix("www.")], 25) or "Empleos"}
    return GeneratedCreative(
        headline=_headline(job, limits.headline),
        primary_text=_primary_text(job, modality=modality, salary=salary, limit=limits.primary_text),
        description=(
            _description(category, modality, salary, limits.description) if limits.description else None
        ),
        call_to_action=limits.call_to_action,
        link_url=link,
        extra=extra,
    )


def _headline(job: JobOpening, limit: int) -> str:
    where = "Remoto" if job.modality == "remoto" else job.city
    options = [
        f"{job.title} · Remoto" if job.modality == "remoto" else f"{job.title} en {job.city}",
        job.title,
        f"Empleo en {where}" if job.modality != "remoto" else "Empleo remoto",
    ]
    return first_fitting(options, limit) or "Oferta de empleo"


def _primary_text(job: JobOpening, *, modality: str, salary: str | None, limit: int) -> str:
    place = f"{job.city} ({modality.lower()})" if job.modality != "remoto" else "100 % remoto"
    pay = f" Salario: {salary}." if salary else ""
    openers = [
        f"{job.company} busca {job.title} en {place}.",
        f"{job.company} busca {job.title}.",
        f"Buscamos {job.title} en {place}.",
        f"Buscamos {job.title}.",
        "Nueva oferta de empleo.",
    ]
    # The call to action goes last among what is dropped, the salary never before the opener's details.
    options = [opener + pay + " ¡Postúlate hoy!" for opener in openers]
    options += [opener + pay for opener in openers]
    options += ["Nueva oferta de empleo. ¡Postúlate hoy!"]
    return first_fitting(options, limit) or "¡Postúlate hoy!"


def _description(category: str, modality: str, salary: str | None, limit: int) -> str:
    options = [f"{category} · {modality} · {salary}", f"{modality} · {salary}", salary] if salary else []
    options += [f"{category} · {modality}", category, modality]
    return first_fitting(options, limit) or modality[:limit]


def _google_assets(job: JobOpening, *, category: str, modality: str, salary: str | None) -> dict[str, Any]:
    limit = LIMITS["google"].headline
    candidates = [
        job.title,
        f"Empleo en {job.city}",
        f"{job.title} {job.city}",
        f"Vacante {modality.lower()}",
        f"Trabaja en {job.company}",
        f"Empleos de {category}",
        f"Empleos de {category.split()[0]}",
        "Postúlate hoy",
        "Oferta de empleo",
        "Empleo en Colombia",
    ]
    headlines = list(dict.fromkeys(text for text in candidates if first_fitting([text], limit) == text))
    company_line = [
        f"{job.company} busca {job.title} en {job.city}. Modalidad {modality.lower()}.",
        f"{job.company} busca {job.title} en {job.city}.",
        f"Buscamos {job.title} en {job.city}. Modalidad {modality.lower()}.",
        f"Buscamos {job.title} en {job.city}.",
        f"Buscamos {job.title}.",
    ]
    pay_line = [f"Salario {salary}. ¡Postúlate en minutos!", f"Salario {salary}."] if salary else []
    pay_line.append("Postúlate en minutos y haz crecer tu carrera.")
    descriptions = [
        first_fitting(company_line, 90) or "Nueva oferta de empleo en Colombia.",
        first_fitting(pay_line, 90) or "Postúlate en minutos.",
    ]
    return {
        "headlines": headlines[: GOOGLE_HEADLINES[1]],
        "descriptions": descriptions[: GOOGLE_DESCRIPTIONS[1]],
        "path1": "empleos",
        "path2": _url_path(job.city, 15),
    }


def _url_path(text: str, limit: int) -> str:
    """A display-URL path: the words of `text` that fit, joined by hyphens, never cut mid-word."""
    words = [w for w in text.lower().replace(".", " ").split() if w]
    path = ""
    for word in words:
        longer = f"{path}-{word}" if path else word
        if len(longer) > limit:
            break
        path = longer
    return path or "ofertas"
