"""The job's ad image per platform: what it says (title, company, city, salary, call to action,
the portal's brand) and its PNG, kept per process by the opening's last change."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from adflux.models import JobOpening
from adflux.platforms import images
from adflux.services.creatives import salary_text

CALL_TO_ACTION = "¡Postúlate hoy!"


def card_for(job: JobOpening) -> images.ImageCard:
    """What the image of `job` says; the brand is the portal's host (where people apply)."""
    host = urlsplit(job.apply_url).hostname or ""
    brand = host.removeprefix("www.") or job.company
    city = job.city if job.city == job.department or not job.department else f"{job.city}, {job.department}"
    return images.ImageCard(
        title=job.title,
        company=job.company,
        city=city,
        salary=salary_text(job),
        call_to_action=CALL_TO_ACTION,
        brand=brand,
    )


def image_for(job: JobOpening, platform: str) -> bytes:
    """The PNG of `job`'s ad in the size `platform` wants (rendered once per change of the opening)."""
    if platform not in images.PLATFORM_FORMAT:
        raise KeyError(platform)
    version = job.updated_at.isoformat() if job.updated_at else ""
    return _rendered(card_for(job), images.PLATFORM_FORMAT[platform], (job.id, version))


@lru_cache(maxsize=256)
def _rendered(card: images.ImageCard, fmt: str, key: tuple[int, str]) -> bytes:
    return images.render(card, fmt)
