"""Simulated Colombian job openings, with titles, salaries and requirements per category."""

from __future__ import annotations

import functools
import logging
from typing import Any, NamedTuple

import numpy as np

from adflux.constants import (
    COUNTRY,
    CURRENCY,
    EDUCATION_LABELS,
    JOB_CATEGORIES,
    MODALITIES,
    MODALITY_LABELS,
)
from adflux.simulation.geography import CITIES, city_weights
from adflux.simulation.market import MINIMUM_WAGE, SALARY_ROUNDING
from adflux.simulation.streams import BLOCK_SIZE, JOB_STREAM, block_rng, blocks_for

logger = logging.getLogger(__name__)

JOB_REF_PREFIX = "SIM-J-"
# The JobOpening model's columns a simulated opening fills, in the order of its dicts' keys.
JOB_COLUMNS: tuple[str, ...] = (
    "external_ref",
    "title",
    "description",
    "company",
    "city",
    "department",
    "country",
    "category",
    "modality",
    "salary_min",
    "salary_max",
    "salary_currency",
    "education_required",
    "experience_years_min",
    "apply_url",
    "status",
)
APPLY_URL_BASE = "https://empleos.example.co/ofertas/"
# Share of openings that publish no salary ("a convenir"), as on Colombian portals.
UNPUBLISHED_SALARY_RATE = 0.2
COMPANY_POOL_SIZE = 400


class Role(NamedTuple):
    title: str
    # Typical monthly salary floor offered, in COP.
    salary: int
    education: str
    experience: int


# Categories with their share of openings and the roles posted under them.
ROLES: dict[str, tuple[float, tuple[Role, ...]]] = {
    "ventas": (
        0.14,
        (
            Role("Asesor comercial", 1_600_000, "bachiller", 1),
            Role("Vendedor de mostrador", 1_500_000, "bachiller", 0),
            Role("Asesor comercial externo", 2_000_000, "tecnico", 1),
            Role("Ejecutivo de ventas", 2_800_000, "tecnologo", 2),
            Role("Jefe de ventas", 5_000_000, "profesional", 4),
            Role("Gerente de cuenta", 6_500_000, "profesional", 5),
        ),
    ),
    "servicio_cliente": (
        0.12,
        (
            Role("Asesor de servicio al cliente", 1_500_000, "bachiller", 0),
            Role("Agente de call center bilingüe", 2_600_000, "bachiller", 0),
            Role("Auxiliar de servicio al cliente", 1_500_000, "bachiller", 0),
            Role("Coordinador de servicio al cliente", 3_200_000, "tecnologo", 3),
        ),
    ),
    "tecnologia": (
        0.10,
        (
            Role("Soporte técnico de TI", 2_000_000, "tecnico", 1),
            Role("Desarrollador de software junior", 3_500_000, "tecnologo", 0),
            Role("Desarrollador backend Python", 6_500_000, "profesional", 2),
            Role("Desarrollador full stack", 7_000_000, "profesional", 3),
            Role("Analista de datos", 5_000_000, "profesional", 2),
            Role("Ingeniero DevOps", 9_500_000, "profesional", 4),
            Role("Líder técnico de software", 13_000_000, "especializacion", 6),
        ),
    ),
    "produccion_operarios": (
        0.10,
        (
            Role("Operario de producción", 1_450_000, "bachiller", 0),
            Role("Operario de máquina", 1_700_000, "bachiller", 1),
            Role("Auxiliar de calidad", 1_900_000, "tecnico", 1),
            Role("Técnico de mantenimiento", 2_500_000, "tecnico", 2),
            Role("Supervisor de producción", 3_800_000, "tecnologo", 3),
        ),
    ),
    "administracion": (
        0.09,
        (
            Role("Recepcionista", 1_500_000, "bachiller", 0),
            Role("Auxiliar administrativo", 1_700_000, "tecnico", 1),
            Role("Asistente administrativa", 2_000_000, "tecnologo", 1),
            Role("Coordinador administrativo", 3_500_000, "profesional", 3),
            Role("Gerente administrativo", 10_000_000, "especializacion", 8),
        ),
    ),
    "logistica_transporte": (
        0.09,
        (
            Role("Auxiliar de bodega", 1_500_000, "bachiller", 0),
            Role("Mensajero motorizado", 1_600_000, "bachiller", 1),
            Role("Montacarguista", 1_900_000, "bachiller", 1),
            Role("Conductor categoría C2", 2_200_000, "bachiller", 2),
            Role("Coordinador logístico", 4_000_000, "profesional", 3),
        ),
    ),
    "salud": (
        0.08,
        (
            Role("Auxiliar de enfermería", 1_800_000, "tecnico", 1),
            Role("Regente de farmacia", 2_500_000, "tecnologo", 1),
            Role("Enfermero jefe", 4_200_000, "profesional", 2),
            Role("Fisioterapeuta", 3_500_000, "profesional", 1),
            Role("Médico general", 8_000_000, "profesional", 1),
        ),
    ),
    "contabilidad_finanzas": (
        0.06,
        (
            Role("Auxiliar contable", 1_800_000, "tecnico", 1),
            Role("Analista contable", 3_000_000, "profesional", 2),
            Role("Contador público", 4_500_000, "profesional", 3),
            Role("Analista financiero", 4_500_000, "profesional", 2),
            Role("Director financiero", 15_000_000, "maestria", 10),
        ),
    ),
    "educacion": (
        0.05,
        (
            Role("Docente de primaria", 2_500_000, "profesional", 1),
            Role("Docente de inglés", 2_800_000, "profesional", 1),
            Role("Coordinador académico", 4_500_000, "especializacion", 5),
            Role("Profesor universitario", 5_000_000, "maestria", 3),
        ),
    ),
    "ingenieria": (
        0.05,
        (
            Role("Ingeniero industrial", 4_000_000, "profesional", 1),
            Role("Ingeniero civil residente", 4_500_000, "profesional", 2),
            Role("Ingeniero electricista", 5_000_000, "profesional", 2),
            Role("Ingeniero de proyectos", 6_500_000, "profesional", 3),
        ),
    ),
    "construccion": (
        0.04,
        (
            Role("Ayudante de obra", 1_450_000, "bachiller", 0),
            Role("Oficial de construcción", 2_000_000, "bachiller", 3),
            Role("Inspector SST", 2_800_000, "tecnologo", 2),
            Role("Maestro de obra", 3_000_000, "bachiller", 5),
        ),
    ),
    "mercadeo_publicidad": (
        0.03,
        (
            Role("Community manager", 2_500_000, "tecnologo", 1),
            Role("Diseñador gráfico", 2_500_000, "tecnologo", 1),
            Role("Analista de mercadeo digital", 3_500_000, "profesional", 2),
            Role("Gerente de marca", 9_000_000, "especializacion", 5),
        ),
    ),
    "hoteleria_turismo": (
        0.03,
        (
            Role("Mesero", 1_450_000, "bachiller", 0),
            Role("Auxiliar de cocina", 1_450_000, "bachiller", 0),
            Role("Cocinero", 1_800_000, "tecnico", 1),
            Role("Recepcionista de hotel bilingüe", 2_000_000, "tecnico", 1),
        ),
    ),
    "recursos_humanos": (
        0.02,
        (
            Role("Auxiliar de nómina", 1_900_000, "tecnico", 1),
            Role("Analista de selección", 2_800_000, "profesional", 1),
            Role("Jefe de talento humano", 7_000_000, "especializacion", 5),
        ),
    ),
    "legal": (
        0.02,
        (
            Role("Asistente jurídico", 2_000_000, "tecnologo", 1),
            Role("Abogado junior", 3_000_000, "profesional", 1),
            Role("Abogado laboral", 5_500_000, "profesional", 3),
            Role("Director jurídico", 14_000_000, "especializacion", 8),
        ),
    ),
}
assert set(ROLES) == set(JOB_CATEGORIES)

_MODALITIES_BY_CATEGORY: dict[str, dict[str, float]] = {
    "tecnologia": {"presencial": 0.25, "remoto": 0.35, "hibrido": 0.4},
    "mercadeo_publicidad": {"presencial": 0.45, "remoto": 0.2, "hibrido": 0.35},
    "servicio_cliente": {"presencial": 0.7, "remoto": 0.2, "hibrido": 0.1},
    "contabilidad_finanzas": {"presencial": 0.65, "remoto": 0.1, "hibrido": 0.25},
    "legal": {"presencial": 0.6, "remoto": 0.1, "hibrido": 0.3},
}
_DEFAULT_MODALITIES = {"presencial": 0.88, "remoto": 0.02, "hibrido": 0.1}
# Tech and corporate roles concentrate in Bogotá and Medellín more than population alone says.
_CITY_MULTIPLIERS: dict[str, dict[str, float]] = {
    "tecnologia": {"Bogotá D.C.": 2.0, "Medellín": 1.8},
    "contabilidad_finanzas": {"Bogotá D.C.": 1.5},
    "legal": {"Bogotá D.C.": 1.6},
}

_INTROS = (
    "{company} busca {title_lower} para su equipo en {city}.",
    "Importante empresa del sector requiere {title_lower} en {city}.",
    "En {company} estamos creciendo y necesitamos {title_lower} en {city}.",
    "¿Eres {title_lower}? Únete a {company} en {city}.",
)
_CONTRACTS = (
    "Contrato a término indefinido",
    "Contrato a término fijo (1 año) con posibilidad de renovación",
    "Contrato por obra o labor",
    "Contrato a término fijo (6 meses)",
)
_BENEFITS = (
    "prestaciones de ley",
    "prestaciones de ley y bonificación por cumplimiento",
    "prestaciones de ley, seguro de vida y auxilio de alimentación",
    "prestaciones de ley y plan de formación",
)
_COMPANY_FORMATS = (
    "{a} & {b} S.A.S.",
    "Inversiones {a} S.A.S.",
    "Grupo {a}",
    "Comercializadora {a} Ltda.",
    "{a} Hermanos S.A.S.",
    "Distribuidora {sector} {a} S.A.S.",
    "{sector} del {region} S.A.",
    "Servicios {sector} {a} S.A.S.",
)
_SECTORS = ("Andina", "Logística", "Industrial", "Tecnológica", "Médica", "Comercial", "Agroindustrial")
_REGIONS = ("Caribe", "Pacífico", "Oriente", "Valle", "Llano", "Eje Cafetero", "Centro")

_CATEGORIES = tuple(ROLES)
_CATEGORY_CDF = np.cumsum([ROLES[c][0] for c in _CATEGORIES]) / sum(ROLES[c][0] for c in _CATEGORIES)


def generate_jobs(n: int, *, seed: int, start: int = 0) -> list[dict[str, Any]]:
    """Rows [start, start + n) of the simulated job openings for `seed`, as JobOpening column dicts."""
    companies = company_pool(seed)
    jobs: list[dict[str, Any]] = []
    for block in blocks_for(start, n):
        draws = _block_draws(seed, block)
        first = max(start, block * BLOCK_SIZE)
        last = min(start + n, (block + 1) * BLOCK_SIZE)
        jobs.extend(_job(draws, row - block * BLOCK_SIZE, row, companies) for row in range(first, last))
    return jobs


@functools.lru_cache(maxsize=8)
def company_pool(seed: int) -> tuple[str, ...]:
    """The employers of the simulated market for `seed`: Spanish names from a seeded Faker."""
    from faker import Faker  # here, not at the top: every process imports this module (~0.1 s)

    fake = Faker("es_CO")
    fake.seed_instance(seed)
    names: dict[str, None] = {}
    while len(names) < COMPANY_POOL_SIZE:
        template = fake.random_element(_COMPANY_FORMATS)
        name = template.format(
            a=fake.last_name(),
            b=fake.last_name(),
            sector=fake.random_element(_SECTORS),
            region=fake.random_element(_REGIONS),
        )
        names[name] = None
    return tuple(names)


class _Draws(NamedTuple):
    category: np.ndarray
    role_u: np.ndarray
    city_u: np.ndarray
    modality_u: np.ndarray
    company: np.ndarray
    salary_noise: np.ndarray
    spread: np.ndarray
    unpublished: np.ndarray
    experience_extra: np.ndarray
    text_choice: np.ndarray


@functools.lru_cache(maxsize=4)
def _block_draws(seed: int, block: int) -> _Draws:
    """Every random number of one block, drawn at once in a fixed order (cached for chunked callers)."""
    rng = block_rng(seed, JOB_STREAM, block)
    m = BLOCK_SIZE
    # A few employers post a lot (Zipf-like), most post now and then.
    company_weights = 1.0 / np.arange(1, COMPANY_POOL_SIZE + 1) ** 0.8
    company_cdf = np.cumsum(company_weights) / company_weights.sum()
    return _Draws(
        category=np.minimum(
            np.searchsorted(_CATEGORY_CDF, rng.random(m), side="right"), len(_CATEGORIES) - 1
        ),
        role_u=rng.random(m),
        city_u=rng.random(m),
        modality_u=rng.random(m),
        company=np.minimum(np.searchsorted(company_cdf, rng.random(m), side="right"), COMPANY_POOL_SIZE - 1),
        salary_noise=rng.lognormal(0.0, 0.12, m),
        spread=rng.uniform(1.1, 1.45, m),
        unpublished=rng.random(m) < UNPUBLISHED_SALARY_RATE,
        experience_extra=rng.integers(0, 2, m),
        text_choice=rng.integers(0, 1 << 16, (m, 3)),
    )


def _job(draws: _Draws, i: int, row: int, companies: tuple[str, ...]) -> dict[str, Any]:
    category = _CATEGORIES[draws.category[i]]
    roles = ROLES[category][1]
    role = roles[min(int(draws.role_u[i] * len(roles)), len(roles) - 1)]
    city = CITIES[_pick(_city_cdf(category), draws.city_u[i])]
    modality = MODALITIES[_pick(_modality_cdf(category), draws.modality_u[i])]
    salary_min: int | None = None
    salary_max: int | None = None
    if not draws.unpublished[i]:
        salary_min = max(MINIMUM_WAGE, _round_salary(role.salary * draws.salary_noise[i]))
        salary_max = max(salary_min + SALARY_ROUNDING, _round_salary(salary_min * draws.spread[i]))
    ref = f"{JOB_REF_PREFIX}{row + 1:07d}"
    experience = role.experience + int(draws.experience_extra[i])
    company = companies[draws.company[i]]
    return {
        "external_ref": ref,
        "title": role.title,
        "description": _description(
            role, company, city.name, modality, experience, salary_min, salary_max, draws.text_choice[i]
        ),
        "company": company,
        "city": city.name,
        "department": city.department,
        "country": COUNTRY,
        "category": category,
        "modality": modality,
        "salary_min": salary_min,
        "salary_max": salary_max,
        "salary_currency": CURRENCY,
        "education_required": role.education,
        "experience_years_min": experience,
        "apply_url": f"{APPLY_URL_BASE}{ref}",
        "status": "open",
    }


def _description(
    role: Role,
    company: str,
    city: str,
    modality: str,
    experience: int,
    salary_min: int | None,
    salary_max: int | None,
    choice: np.ndarray,
) -> str:
    intro = _INTROS[choice[0] % len(_INTROS)].format(
        company=company, title_lower=role.title.lower(), city=city
    )
    years = (
        "sin experiencia previa"
        if experience == 0
        else f"{experience} año{'s' if experience > 1 else ''} de experiencia en cargos similares"
    )
    salary = (
        "Salario a convenir"
        if salary_min is None
        else f"Salario entre ${salary_min:,} y ${salary_max:,} COP mensuales".replace(",", ".")
    )
    return (
        f"{intro}\n\n"
        f"Requisitos: {EDUCATION_LABELS[role.education]}, {years}.\n"
        f"Modalidad: {MODALITY_LABELS[modality]}.\n"
        f"Ofrecemos: {_CONTRACTS[choice[1] % len(_CONTRACTS)]}, {_BENEFITS[choice[2] % len(_BENEFITS)]}. "
        f"{salary}."
    )


def _round_salary(value: float) -> int:
    return round(float(value) / SALARY_ROUNDING) * SALARY_ROUNDING


def _pick(cdf: np.ndarray, u: float) -> int:
    return min(int(np.searchsorted(cdf, u, side="right")), len(cdf) - 1)


@functools.cache
def _city_cdf(category: str) -> np.ndarray:
    return np.cumsum(city_weights(_CITY_MULTIPLIERS.get(category)))


@functools.cache
def _modality_cdf(category: str) -> np.ndarray:
    weights = _MODALITIES_BY_CATEGORY.get(category, _DEFAULT_MODALITIES)
    p = np.array([weights[m] for m in MODALITIES])
    return np.cumsum(p / p.sum())
