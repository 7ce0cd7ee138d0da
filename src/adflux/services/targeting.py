"""What each segment would like to target, before compliance decides what is allowed."""

from __future__ import annotations

from typing import Any

from adflux.constants import JOB_CATEGORY_LABELS
from adflux.models import JobOpening, Segment
from adflux.platforms.types import JobContext, TargetingSpec


def job_context(job: JobOpening) -> JobContext:
    """The job as the compliance rules see it."""
    return JobContext(
        title=job.title, category=job.category, city=job.city, department=job.department, country=job.country
    )


def _names(entries: Any, limit: int) -> tuple[str, ...]:
    # Profiles list values either as plain strings or as {"value"/"name": ..., "share": ...}.
    out: list[str] = []
    for entry in entries or []:
        if isinstance(entry, dict):
            entry = entry.get("value") or entry.get("name")
        if entry and str(entry) not in out:
            out.append(str(entry))
        if len(out) >= limit:
            break
    return tuple(out)


def wishes_for_segment(
    segment: Segment | None, job: JobOpening, *, custom_audience_id: str | None = None
) -> TargetingSpec:
    """A segment's ideal targeting: its cities, age band and interests, plus its consented audience.

    Broad targeting (no segment) aims at the job's own city. Age is what a marketer would ask
    for; compliance removes or widens it where employment-ad rules forbid it, and says so.
    """
    if segment is None:
        return TargetingSpec(cities=(job.city,), custom_audience_id=custom_audience_id)
    profile = segment.profile or {}
    cities = _names(profile.get("top_cities"), 5) or (job.city,)
    age_band = profile.get("age_band") or profile.get("age_range")
    age_min = age_max = None
    if isinstance(age_band, (list, tuple)) and len(age_band) == 2:
        age_min, age_max = int(age_band[0]), int(age_band[1])
    elif isinstance(age_band, str) and "–" in age_band.replace("-", "–"):
        low, high = age_band.replace("-", "–").split("–", 1)
        if low.strip().isdigit() and high.strip().isdigit():
            age_min, age_max = int(low), int(high)
    interests = _names(profile.get("top_skills"), 5) + tuple(
        JOB_CATEGORY_LABELS.get(c, c) for c in _names(profile.get("top_categories"), 2)
    )
    return TargetingSpec(
        age_min=age_min,
        age_max=age_max,
        cities=cities,
        interests=interests,
        custom_audience_id=custom_audience_id,
    )
