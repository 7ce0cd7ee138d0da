"""Ad copy fits every platform's limits by its wording, never by cutting a value, on every simulated job."""

from __future__ import annotations

from datetime import date

import pytest

from adflux.models import JobOpening
from adflux.platforms.google_mutate import _copy as google_rsa_copy
from adflux.platforms.types import AdGroupSpec, CampaignSpec, CreativeSpec, JobContext
from adflux.platforms.x import XAdsAdapter
from adflux.services.creatives import LIMITS, first_fitting, generate_creative, salary_text
from adflux.simulation.jobs import generate_jobs

PLATFORMS = tuple(LIMITS)
LONG_EDGES = [
    {
        "title": "Coordinador nacional de logística y transporte",
        "company": "Distribuidora Nacional de Alimentos del Valle de Aburrá S.A.S.",
        "city": "San Andrés de Tumaco",
        "salary_min": 12_500_000,
        "salary_max": 15_750_000,
    },
    {
        "title": "Desarrollador",
        "company": "Ya",
        "city": "Cali",
        "salary_min": None,
        "salary_max": None,
        "modality": "remoto",
    },
]


def _jobs() -> list[JobOpening]:
    rows = generate_jobs(3_000, seed=20261206)
    base = dict(rows[0])
    rows += [{**base, **edge} for edge in LONG_EDGES]
    return [JobOpening(**row) for row in rows]


JOBS = _jobs()


def _spec(creative, job: JobOpening) -> CampaignSpec:
    return CampaignSpec(
        key="pc-1",
        name="c",
        objective="traffic",
        budget_total=1_000_000,
        start_date=date(2026, 12, 7),
        job=JobContext(title=job.title, category=job.category),
        ad_groups=(AdGroupSpec(ref="g1", name="g1", daily_budget=10_000),),
        creative=CreativeSpec(
            headline=creative.headline,
            primary_text=creative.primary_text,
            link_url=creative.link_url,
            description=creative.description,
            extra=creative.extra,
        ),
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_simulated_job_gets_whole_values_within_the_limits(platform):
    limits = LIMITS[platform]
    shortened = 0
    for job in JOBS:
        creative = generate_creative(job, platform=platform, campaign_id=7)
        texts = [creative.headline, creative.primary_text, creative.description or ""]
        texts += creative.extra.get("headlines", []) + creative.extra.get("descriptions", [])
        assert not any("…" in text for text in texts), (job.title, texts)
        assert len(creative.headline) <= limits.headline
        assert len(creative.primary_text) <= limits.primary_text
        salary = salary_text(job)
        # The salary is never cut: whole in the text, and the call to action kept.
        if salary:
            assert f"Salario: {salary}." in creative.primary_text, creative.primary_text
        else:
            assert "$" not in creative.primary_text
        assert creative.primary_text.endswith("¡Postúlate hoy!"), creative.primary_text
        if creative.description is not None:
            assert len(creative.description) <= limits.description
            assert "$" not in creative.description or (salary and salary in creative.description)
        if not creative.primary_text.startswith(f"{job.company} busca {job.title} en "):
            shortened += 1
        if platform == "google":
            assert 3 <= len(creative.extra["headlines"]) <= 15
            assert all(len(text) <= 30 for text in creative.extra["headlines"])
            assert all(len(text) <= 90 for text in creative.extra["descriptions"])
            assert 0 < len(creative.extra["path2"]) <= 15 and "…" not in creative.extra["path2"]
            headlines, descriptions = google_rsa_copy(_spec(creative, job))
            assert 3 <= len(headlines) <= 15 and 2 <= len(descriptions) <= 4
            offered = set(creative.extra["headlines"]) | {
                creative.headline,
                "Aplica hoy",
                "Empleo en Colombia",
                "Oferta de empleo",
                job.title,
            }
            assert set(headlines) <= offered  # each one a whole text, none cut
        if platform in ("tiktok", "snapchat"):
            assert 0 < len(creative.extra["brand_name"]) <= 25
        if platform == "x":
            post = XAdsAdapter._post_text(_spec(creative, job))
            assert len(post) <= 280 and post.endswith("\n" + creative.link_url)
            assert post.startswith(creative.headline) or post.startswith(creative.primary_text)
    # The long edge cases did need shorter wordings on the tighter platforms.
    if limits.primary_text <= 100:
        assert shortened >= 1


def test_first_fitting_takes_the_longest_wording_that_fits_and_never_cuts():
    assert first_fitting(["uno dos tres cuatro", "uno dos", "uno"], 12) == "uno dos"
    assert first_fitting(["  corto  "], 12) == "corto"
    assert first_fitting(["demasiado largo"], 5) is None
