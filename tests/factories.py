"""Test data builders that go through the services, so test data obeys the same rules."""

from __future__ import annotations

import itertools
from typing import Any

from adflux.models import Candidate, JobOpening
from adflux.services import candidates as candidates_service
from adflux.services import jobs as jobs_service

_seq = itertools.count(1)


def job_data(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data: dict[str, Any] = {
        "external_ref": f"TEST-J-{n}",
        "title": f"Desarrollador Python {n}",
        "description": "Backend con Flask y PostgreSQL.",
        "company": "Acme Colombia S.A.S.",
        "city": "Bogotá",
        "department": "Bogotá D.C.",
        "category": "tecnologia",
        "modality": "hibrido",
        "salary_min": 6_000_000,
        "salary_max": 9_000_000,
        "education_required": "profesional",
        "experience_years_min": 2,
        "apply_url": f"https://empleos.example.co/ofertas/{n}",
    }
    data.update(overrides)
    return data


def candidate_data(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data: dict[str, Any] = {
        "external_ref": f"TEST-C-{n}",
        "birth_year": 1995,
        "city": "Medellín",
        "department": "Antioquia",
        "education_level": "profesional",
        "years_experience": 4,
        "desired_category": "tecnologia",
        "desired_modality": "remoto",
        "expected_salary": 7_000_000,
        "skills": ["python", "sql"],
        "languages": ["español", "inglés"],
        "email": f"persona{n}@example.com",
        "marketing_consent": True,
    }
    data.update(overrides)
    return data


def make_job(**overrides: Any) -> JobOpening:
    return jobs_service.create_job(data=job_data(**overrides))


def make_candidate(**overrides: Any) -> Candidate:
    return candidates_service.create_candidate(data=candidate_data(**overrides))


def make_segments(n: int = 2, *, status: str = "active", version: int = 1) -> list:
    """An activated model version with `n` segments (as training would leave them)."""
    from adflux.extensions import db
    from adflux.models import Segment, SegmentationModel

    model = SegmentationModel(
        version=version,
        status=status,
        k=n,
        features=["age", "city"],
        artifact_uri=f"file:///tmp/model-{version}.skops",
        artifact_sha256="0" * 64,
    )
    profiles = [
        {
            "top_cities": [{"value": "Bogotá", "share": 0.6}, {"value": "Soacha", "share": 0.1}],
            "age_band": "25–34",
            "top_skills": [{"value": "python", "share": 0.8}],
            "top_categories": [{"value": "tecnologia", "share": 0.9}],
        },
        {
            "top_cities": [{"value": "Medellín", "share": 0.5}],
            "age_band": "35–44",
            "top_skills": [{"value": "ventas", "share": 0.7}],
            "top_categories": [{"value": "ventas", "share": 0.8}],
        },
    ]
    for i in range(n):
        model.segments.append(
            Segment(
                cluster_index=i, name=f"Segmento {i}", size=1000 * (i + 1), share=0.5, profile=profiles[i % 2]
            )
        )
    db.session.add(model)
    db.session.commit()
    return list(model.segments)


def slow_dump(schema: Any, obj: Any) -> Any:
    """marshmallow's own dump all the way down (nested FastDumpSchemas made slow too): what a
    FastDumpSchema's dump must equal."""
    from marshmallow import Schema, fields

    from adflux.schemas.common import FastDumpSchema

    saved = []
    stack = [schema]
    while stack:
        current = stack.pop()
        if isinstance(current, FastDumpSchema):
            saved.append(current)
            current.__dict__["_fast_plan"] = None  # no plan: marshmallow's path
        for field in current.dump_fields.values():
            inner = getattr(field, "value_field", None) or field  # a Dict's values
            inner = getattr(inner, "inner", inner)
            if isinstance(inner, fields.Nested):
                stack.append(inner.schema)
    try:
        return Schema.dump(schema, obj)
    finally:
        for current in saved:
            current.__dict__.pop("_fast_plan", None)
