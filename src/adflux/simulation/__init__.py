"""Simulated Colombian candidates and job openings, drawn from hidden personas.

`generate_candidates` returns a columnar `CandidateBatch`; `generate_jobs` returns dicts with
the JobOpening columns. Both are deterministic for a seed and chunk-invariant: rows
[start, start + n) are the same whether generated at once or piece by piece.
"""

from adflux.simulation.candidates import (
    CANDIDATE_COLUMNS,
    DEFAULT_AS_OF,
    CandidateBatch,
    generate_candidates,
)
from adflux.simulation.geography import CITIES, CITY_DEPARTMENT, CITY_NAMES
from adflux.simulation.jobs import generate_jobs
from adflux.simulation.mixes import PRESETS, PersonaMix, parse_mix
from adflux.simulation.personas import FAMILIES, LANGUAGES, PERSONA_NAMES, PERSONAS, SKILLS, Persona

__all__ = [
    "CANDIDATE_COLUMNS",
    "CITIES",
    "CITY_DEPARTMENT",
    "CITY_NAMES",
    "DEFAULT_AS_OF",
    "FAMILIES",
    "LANGUAGES",
    "PERSONAS",
    "PERSONA_NAMES",
    "PRESETS",
    "SKILLS",
    "CandidateBatch",
    "Persona",
    "PersonaMix",
    "generate_candidates",
    "generate_jobs",
    "parse_mix",
]
