"""Properties of the simulated job openings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.models import JobOpening
from adflux.simulation import CITY_DEPARTMENT, generate_jobs
from adflux.simulation.jobs import JOB_COLUMNS
from adflux.simulation.market import MINIMUM_WAGE
from adflux.simulation.streams import BLOCK_SIZE

seeds = st.integers(min_value=0, max_value=2**63)
MODEL_COLUMNS = {c.name for c in JobOpening.__table__.columns} - {
    "id",
    "created_at",
    "updated_at",
    "closed_at",
    # Set by a job feed's run (or a close), never by the simulated data set.
    "close_reason",
    "feed_id",
    "content_hash",
    "expires_at",
}


@settings(max_examples=10, deadline=None)
@given(seed=seeds, start=st.integers(0, 2 * BLOCK_SIZE), cuts=st.lists(st.integers(0, 300), max_size=4))
def test_jobs_are_deterministic_and_chunk_invariant(seed: int, start: int, cuts: list[int]) -> None:
    whole = generate_jobs(sum(cuts), seed=seed, start=start)
    assert whole == generate_jobs(sum(cuts), seed=seed, start=start)
    chunks, offset = [], start
    for size in cuts:
        chunks.extend(generate_jobs(size, seed=seed, start=offset))
        offset += size
    assert chunks == whole


@settings(max_examples=10, deadline=None)
@given(seed=seeds, start=st.integers(0, 10**6), n=st.integers(1, 400))
def test_jobs_have_the_job_opening_columns_and_valid_values(seed: int, start: int, n: int) -> None:
    jobs = generate_jobs(n, seed=seed, start=start)
    assert len({j["external_ref"] for j in jobs}) == n
    assert jobs[0]["external_ref"] == f"SIM-J-{start + 1:07d}"
    for job in jobs:
        assert tuple(job) == JOB_COLUMNS
        assert CITY_DEPARTMENT[job["city"]] == job["department"]
        assert job["category"] in JOB_CATEGORIES
        assert job["modality"] in MODALITIES
        assert job["education_required"] in EDUCATION_LEVELS
        assert job["apply_url"] == f"https://empleos.example.co/ofertas/{job['external_ref']}"
        assert job["status"] == "open" and job["country"] == "CO" and job["salary_currency"] == "COP"
        assert job["experience_years_min"] >= 0
        if job["salary_min"] is None:
            assert job["salary_max"] is None
        else:
            assert MINIMUM_WAGE <= job["salary_min"] < job["salary_max"] <= 30_000_000
        assert job["title"] and job["company"] and job["title"].lower() in job["description"].lower()


def test_about_a_fifth_of_openings_do_not_publish_a_salary() -> None:
    jobs = generate_jobs(3_000, seed=4)
    share = sum(j["salary_min"] is None for j in jobs) / len(jobs)
    assert 0.17 < share < 0.23
    assert len({j["category"] for j in jobs}) == len(JOB_CATEGORIES)
    assert len({j["company"] for j in jobs}) > 100
    assert "Salario a convenir" in next(j["description"] for j in jobs if j["salary_min"] is None)


def test_job_columns_are_the_job_opening_columns_a_simulated_opening_fills() -> None:
    assert set(JOB_COLUMNS) == MODEL_COLUMNS
