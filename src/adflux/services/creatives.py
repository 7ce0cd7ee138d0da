"""Ad copy generated from a job opening, in Spanish, within each platform's limits."""

from __future__ import annotations

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


def fit(text: str, limit: int) -> str:
    """Shorten `text` to `limit` characters at a word boundary, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:·-–") + "…"


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
    """Spanish copy for `job` on `platform`: title, city, modality, salary where published, CTA."""
    limits = LIMITS[platform]
    modality = MODALITY_LABELS.get(job.modality, job.modality)
    category = JOB_CATEGORY_LABELS.get(job.category, job.category)
    salary = salary_text(job)
    place = f"{job.city} ({modality.lower()})" if job.modality != "remoto" else "100 % remoto"
    headline = fit(
        f"{job.title} en {job.city}" if job.modality != "remoto" else f"{job.title} · Remoto", limits.headline
    )
    sentences = [f"{job.company} busca {job.title} en {place}."]
    if salary:
        sentences.append(f"Salario: {salary}.")
    sentences.append("¡Postúlate hoy!")
    primary = fit(" ".join(sentences), limits.primary_text)
    description = None
    if limits.description:
        description = fit(f"{category} · {modality}" + (f" · {salary}" if salary else ""), limits.description)
    link = tracked_link(job.apply_url, platform=platform, campaign_id=campaign_id, medium=limits.utm_medium)
    extra: dict[str, Any] = {}
    if platform == "google":
        extra = _google_assets(job, category=category, modality=modality, salary=salary)
    elif platform in ("tiktok", "snapchat"):
        extra = {"brand_name": fit(job.company, 25)}
    return GeneratedCreative(
        headline=headline,
        primary_text=primary,
        description=description,
        call_to_action=limits.call_to_action,
        link_url=link,
        extra=extra,
    )


def _google_assets(job: JobOpening, *, category: str, modality: str, salary: str | None) -> dict[str, Any]:
    limit = LIMITS["google"].headline
    candidates = [
        job.title,
        f"Empleo en {job.city}",
        f"{job.title} {job.city}",
        f"Vacante {modality}",
        f"Trabaja en {job.company}",
        f"Empleos de {category}",
        "Postúlate hoy",
    ]
    headlines: list[str] = []
    for text in candidates:
        short = fit(text, limit)
        if short not in headlines:
            headlines.append(short)
    descriptions = [
        fit(f"{job.company} busca {job.title} en {job.city}. Modalidad {modality.lower()}.", 90),
        fit(
            f"Salario {salary}. ¡Postúlate en minutos!"
            if salary
            else "Postúlate en minutos y haz crecer tu carrera.",
            90,
        ),
    ]
    return {
        "headlines": headlines[: GOOGLE_HEADLINES[1]],
        "descriptions": descriptions[: GOOGLE_DESCRIPTIONS[1]],
        "path1": fit("empleos", 15),
        "path2": fit(job.city.lower().replace(" ", "-"), 15),
    }
