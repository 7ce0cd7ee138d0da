"""Fixtures for the segmentation core: small synthetic candidate frames with known personas."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from adflux.ml.features import candidate_frame
from adflux.ml.training import TrainingResult, train_segmenter

REFERENCE_YEAR = 2025

# Six personas, each a recognisable audience: (category, main city, department, education index,
# mean age, modality weights (presencial, remoto, hibrido), salary in millions COP, skill pool).
_PERSONAS = [
    (
        "tecnologia",
        "Bogotá",
        "Bogotá D.C.",
        3,
        29,
        (0.2, 0.5, 0.3),
        6.5,
        ["python", "sql", "git", "docker", "aws"],
    ),
    ("ventas", "Medellín", "Antioquia", 1, 31, (0.8, 0.05, 0.15), 2.2, ["negociación", "crm", "prospección"]),
    ("salud", "Cali", "Valle del Cauca", 3, 36, (0.9, 0.0, 0.1), 4.0, ["urgencias", "enfermería", "triage"]),
    (
        "logistica_transporte",
        "Barranquilla",
        "Atlántico",
        0,
        41,
        (0.95, 0.0, 0.05),
        1.6,
        ["montacargas", "inventarios", "licencia c2"],
    ),
    (
        "contabilidad_finanzas",
        "Bucaramanga",
        "Santander",
        4,
        44,
        (0.5, 0.2, 0.3),
        7.5,
        ["niif", "excel", "sap"],
    ),
    (
        "servicio_cliente",
        "Pereira",
        "Risaralda",
        2,
        23,
        (0.4, 0.3, 0.3),
        1.5,
        ["call center", "excel", "inglés"],
    ),
]
_CITIES = [("Bogotá", "Bogotá D.C."), ("Medellín", "Antioquia"), ("Cali", "Valle del Cauca")]
_CITIES += [("Barranquilla", "Atlántico"), ("Bucaramanga", "Santander"), ("Pereira", "Risaralda")]
_CITIES += [("Cartagena", "Bolívar"), ("Manizales", "Caldas"), ("Cúcuta", "Norte de Santander")]
_EDUCATION = ["bachiller", "tecnico", "tecnologo", "profesional", "especializacion", "maestria", "doctorado"]
_MODALITIES = ["presencial", "remoto", "hibrido"]
_COMMON_SKILLS = ["office", "trabajo en equipo", "inglés", "comunicación"]


def _make_candidates(n: int, *, seed: int = 0, personas: int = 6) -> pd.DataFrame:
    """`n` candidates drawn from `personas` hidden personas; `persona_index` is the ground truth."""
    rng = np.random.default_rng(seed)
    persona = rng.integers(0, personas, n)
    rows = []
    for i in range(n):
        cat, city, dept, edu, age, modality, salary, pool = _PERSONAS[persona[i]]
        if rng.random() < 0.2:  # some candidates live elsewhere
            city, dept = _CITIES[rng.integers(len(_CITIES))]
        cand_age = max(18, int(rng.normal(age, 3.5)))
        skills = [s for s in pool if rng.random() < 0.7]
        skills += [s for s in _COMMON_SKILLS if rng.random() < 0.15]
        rows.append(
            {
                "id": i + 1,
                "email": f"c{i}@example.com",
                "birth_year": REFERENCE_YEAR - cand_age,
                "city": city,
                "department": dept,
                "education_level": _EDUCATION[
                    int(np.clip(edu + rng.integers(-1, 2) * (rng.random() < 0.3), 0, 6))
                ],
                "years_experience": int(max(0, cand_age - 18 - rng.integers(0, 5))),
                "desired_category": cat if rng.random() < 0.9 else "administracion",
                "desired_modality": _MODALITIES[rng.choice(3, p=modality)],
                "expected_salary": int(salary * 1e6 * rng.lognormal(0, 0.15)),
                "skills": skills,
                "persona_index": int(persona[i]),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def make_candidates() -> Callable[..., pd.DataFrame]:
    """The synthetic generator: `make_candidates(n, seed=..., personas=...)`."""
    return _make_candidates


@pytest.fixture(scope="session")
def reference_year() -> int:
    return REFERENCE_YEAR


@pytest.fixture(scope="session")
def candidates() -> pd.DataFrame:
    return _make_candidates(3000, seed=1)


@pytest.fixture(scope="session")
def frame(candidates: pd.DataFrame) -> pd.DataFrame:
    return candidate_frame(candidates, reference_year=REFERENCE_YEAR)


@pytest.fixture(scope="session")
def trained(frame: pd.DataFrame) -> TrainingResult:
    """One segmentation of the synthetic candidates, shared by read-only tests."""
    return train_segmenter(frame, k_min=2, k_max=8, random_state=0)
