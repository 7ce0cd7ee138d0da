"""The hidden personas simulated candidates are drawn from, and the vocabularies they use.

Design (so segmentation quality can be measured honestly):

* Eight personas in four *families* of two (tecnología, salud, operaciones, administración).
  Both members of a family draw their skills from the very same distribution and want the same
  job categories, so skills or category alone can at best tell the family, never the persona
  (≈ 50 % accuracy).
* Within a family the two personas differ in seniority: age, years of experience, expected
  salary, education and preferred modality are jointly far apart, but each of those on its own
  is shared with personas of other families (every family has a young, cheaper member and an
  experienced, dearer one), so no single number identifies a persona either.
* Jointly the signature is distinctive: skills + category say the family, the numbers say the
  member, which is what a K-means over all features recovers.

`tests/simulation/test_personas.py` proves both halves (single-feature accuracy < 0.6,
K-means adjusted Rand index ≥ 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.simulation.geography import CITIES, city_weights

# Skill names as candidates write them on a Colombian portal. At most 64 (they are bits of a
# uint64 mask); the order is part of the deterministic output, so only append.
GENERIC_SKILLS: tuple[str, ...] = (
    "Trabajo en equipo",
    "Comunicación asertiva",
    "Microsoft Excel",
    "Microsoft Office",
    "Resolución de problemas",
    "Liderazgo",
    "Orientación al logro",
    "Atención al público",
    "Servicio al cliente",
    "Ventas",
)
FAMILY_SKILLS: dict[str, tuple[str, ...]] = {
    "tecnologia": (
        "Python",
        "JavaScript",
        "SQL",
        "Git",
        "React",
        "Java",
        "Node.js",
        "Docker",
        "AWS",
        "Scrum",
        "APIs REST",
        "Linux",
    ),
    "salud": (
        "Atención al paciente",
        "Toma de signos vitales",
        "Administración de medicamentos",
        "Primeros auxilios",
        "Historia clínica",
        "Bioseguridad",
        "Curaciones",
        "Soporte vital básico",
        "Vacunación",
        "Triage",
    ),
    "operaciones": (
        "Manejo de montacargas",
        "Control de calidad",
        "Buenas prácticas de manufactura",
        "Seguridad industrial",
        "Inventarios",
        "Cargue y descargue",
        "Licencia de conducción C2",
        "Mantenimiento preventivo",
        "Trabajo en alturas",
        "Empaque y embalaje",
    ),
    "administracion": (
        "Facturación",
        "Gestión documental",
        "Nómina",
        "Contabilidad",
        "SIIGO",
        "Presupuestos",
        "Conciliaciones bancarias",
        "Planeación estratégica",
        "Gestión de proveedores",
        "Excel avanzado",
    ),
}
SKILLS: tuple[str, ...] = GENERIC_SKILLS + tuple(s for group in FAMILY_SKILLS.values() for s in group)
SKILL_INDEX: dict[str, int] = {name: i for i, name in enumerate(SKILLS)}
assert len(SKILLS) <= 64 and len(set(SKILLS)) == len(SKILLS)

LANGUAGES: tuple[str, ...] = ("Español", "Inglés", "Portugués", "Francés")

# How often a candidate lists each skill of their own family, strongest first (core skills are
# listed by most, niche ones by few); a family's skills are listed in this order of likelihood.
_BUNDLE_PROBABILITIES = (0.92, 0.9, 0.9, 0.88, 0.86, 0.85, 0.2, 0.18, 0.15, 0.12, 0.1, 0.08)
_GENERIC_PROBABILITY = 0.06
# Skills that real neighbouring families share: listed now and then outside their own family.
_NEIGHBOUR_SKILLS: dict[str, dict[str, float]] = {
    "tecnologia": {"Excel avanzado": 0.1},
    "salud": {"Atención al público": 0.3, "Servicio al cliente": 0.1},
    "operaciones": {"Trabajo en equipo": 0.2, "Gestión de proveedores": 0.05},
    "administracion": {
        "Servicio al cliente": 0.15,
        "Ventas": 0.1,
        "Inventarios": 0.1,
        "Microsoft Office": 0.3,
    },
}


@dataclass(frozen=True)
class Persona:
    """One hidden candidate archetype: the distributions its candidates are drawn from."""

    name: str
    description: str
    family: str
    weight: float
    age_mean: float
    age_sd: float
    experience_mean: float
    experience_sd: float
    # Median expected monthly salary in COP and the spread of its logarithm.
    salary_median: float
    salary_sigma: float
    education: dict[str, float]
    categories: dict[str, float]
    modalities: dict[str, float]
    english: float
    city_multipliers: dict[str, float] = field(default_factory=dict)


# Weights within a family are kept close: the more equal they are, the less a family-level
# feature (skills, category) can guess the persona.
# Desired categories per family: the same for both members, so category alone cannot tell them apart.
_TECH_CATEGORIES = {
    "tecnologia": 0.7,
    "ingenieria": 0.12,
    "mercadeo_publicidad": 0.06,
    "administracion": 0.06,
    "ventas": 0.06,
}
_HEALTH_CATEGORIES = {"salud": 0.75, "servicio_cliente": 0.1, "educacion": 0.08, "hoteleria_turismo": 0.07}
_OPERATIONS_CATEGORIES = {
    "produccion_operarios": 0.45,
    "logistica_transporte": 0.42,
    "construccion": 0.08,
    "ventas": 0.05,
}
_ADMIN_CATEGORIES = {
    "administracion": 0.42,
    "contabilidad_finanzas": 0.28,
    "recursos_humanos": 0.12,
    "ventas": 0.08,
    "servicio_cliente": 0.05,
    "legal": 0.05,
}
# Modality follows seniority, not family: juniors want on-site work (tech juniors remote),
# seniors hybrid. Shared across families, so modality alone says little.
_JUNIOR_MODALITIES = {"presencial": 0.85, "remoto": 0.1, "hibrido": 0.05}
_SENIOR_MODALITIES = {"presencial": 0.15, "remoto": 0.1, "hibrido": 0.75}

# Weights within a family are kept nearly equal: the more equal they are, the less a family-level
# feature (skills, category) can guess the persona.
PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="desarrollador_junior_bogota",
        description="Desarrollador de software junior, sobre todo en Bogotá, prefiere trabajo remoto",
        family="tecnologia",
        weight=0.13,
        age_mean=24,
        age_sd=2.5,
        experience_mean=2,
        experience_sd=1.2,
        salary_median=4_000_000,
        salary_sigma=0.25,
        education={"tecnico": 0.1, "tecnologo": 0.35, "profesional": 0.55},
        categories=_TECH_CATEGORIES,
        modalities={"presencial": 0.35, "remoto": 0.55, "hibrido": 0.1},
        english=0.55,
        city_multipliers={"Bogotá D.C.": 4.0},
    ),
    Persona(
        name="ingeniero_software_senior",
        description="Ingeniero de software senior con posgrado y alto salario, Bogotá y Medellín",
        family="tecnologia",
        weight=0.12,
        age_mean=41,
        age_sd=5,
        experience_mean=18,
        experience_sd=4,
        salary_median=12_000_000,
        salary_sigma=0.3,
        education={"profesional": 0.45, "especializacion": 0.35, "maestria": 0.2},
        categories=_TECH_CATEGORIES,
        modalities=_SENIOR_MODALITIES,
        english=0.85,
        city_multipliers={"Bogotá D.C.": 1.8, "Medellín": 1.8, "Envigado": 2.0},
    ),
    Persona(
        name="auxiliar_enfermeria",
        description="Auxiliar de enfermería técnica, joven, salario cercano al mínimo",
        family="salud",
        weight=0.13,
        age_mean=24,
        age_sd=3,
        experience_mean=2,
        experience_sd=1.5,
        salary_median=1_800_000,
        salary_sigma=0.15,
        education={"bachiller": 0.05, "tecnico": 0.8, "tecnologo": 0.15},
        categories=_HEALTH_CATEGORIES,
        modalities=_JUNIOR_MODALITIES,
        english=0.08,
    ),
    Persona(
        name="enfermera_profesional",
        description="Enfermera profesional con larga experiencia y a menudo especialización",
        family="salud",
        weight=0.12,
        age_mean=42,
        age_sd=5,
        experience_mean=18,
        experience_sd=4.5,
        salary_median=4_500_000,
        salary_sigma=0.2,
        education={"profesional": 0.6, "especializacion": 0.35, "maestria": 0.05},
        categories=_HEALTH_CATEGORIES,
        modalities=_SENIOR_MODALITIES,
        english=0.2,
    ),
    Persona(
        name="operario_produccion",
        description="Operario de producción joven en ciudades industriales",
        family="operaciones",
        weight=0.13,
        age_mean=24,
        age_sd=3,
        experience_mean=2,
        experience_sd=1.5,
        salary_median=1_600_000,
        salary_sigma=0.1,
        education={"bachiller": 0.75, "tecnico": 0.25},
        categories=_OPERATIONS_CATEGORIES,
        modalities=_JUNIOR_MODALITIES,
        english=0.03,
        city_multipliers={
            "Medellín": 1.6,
            "Itagüí": 2.5,
            "Bello": 2.0,
            "Cali": 1.5,
            "Palmira": 2.0,
            "Soacha": 2.0,
            "Barranquilla": 1.3,
            "Bucaramanga": 1.3,
        },
    ),
    Persona(
        name="conductor_logistica",
        description="Conductor y coordinador de logística con licencia y larga experiencia",
        family="operaciones",
        weight=0.12,
        age_mean=45,
        age_sd=5,
        experience_mean=20,
        experience_sd=4.5,
        salary_median=2_400_000,
        salary_sigma=0.15,
        education={"bachiller": 0.5, "tecnico": 0.5},
        categories=_OPERATIONS_CATEGORIES,
        modalities=_SENIOR_MODALITIES,
        english=0.02,
        city_multipliers={"Barranquilla": 1.5, "Cartagena": 1.8, "Santa Marta": 1.8, "Cúcuta": 1.5},
    ),
    Persona(
        name="auxiliar_administrativo",
        description="Auxiliar administrativo o contable, técnico o tecnólogo",
        family="administracion",
        weight=0.13,
        age_mean=24,
        age_sd=3,
        experience_mean=2,
        experience_sd=1.5,
        salary_median=1_900_000,
        salary_sigma=0.15,
        education={"tecnico": 0.45, "tecnologo": 0.4, "profesional": 0.15},
        categories=_ADMIN_CATEGORIES,
        modalities=_JUNIOR_MODALITIES,
        english=0.15,
    ),
    Persona(
        name="ejecutivo_senior",
        description="Gerente o directivo administrativo y financiero con maestría",
        family="administracion",
        weight=0.12,
        age_mean=48,
        age_sd=5,
        experience_mean=23,
        experience_sd=5,
        salary_median=15_000_000,
        salary_sigma=0.3,
        education={"profesional": 0.05, "especializacion": 0.45, "maestria": 0.45, "doctorado": 0.05},
        categories=_ADMIN_CATEGORIES,
        modalities=_SENIOR_MODALITIES,
        english=0.75,
        city_multipliers={"Bogotá D.C.": 1.6, "Medellín": 1.3},
    ),
)
PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)
PERSONA_INDEX: dict[str, int] = {name: i for i, name in enumerate(PERSONA_NAMES)}
FAMILIES: tuple[str, ...] = tuple(FAMILY_SKILLS)


def _distribution(values: dict[str, float], vocabulary: tuple[str, ...], what: str) -> np.ndarray:
    unknown = set(values) - set(vocabulary)
    if unknown:
        raise ValueError(f"unknown {what}: {sorted(unknown)}")
    p = np.array([values.get(v, 0.0) for v in vocabulary], dtype=np.float64)
    return p / p.sum()


def _family_skill_probabilities(family: str) -> np.ndarray:
    p = np.full(len(SKILLS), 0.0)
    p[: len(GENERIC_SKILLS)] = _GENERIC_PROBABILITY
    for name, prob in zip(FAMILY_SKILLS[family], _BUNDLE_PROBABILITIES, strict=False):
        p[SKILL_INDEX[name]] = prob
    for name, prob in _NEIGHBOUR_SKILLS[family].items():
        p[SKILL_INDEX[name]] = max(p[SKILL_INDEX[name]], prob)
    return p


@dataclass(frozen=True)
class PersonaTables:
    """The personas compiled into arrays indexed by persona, for vectorised sampling."""

    weights: np.ndarray
    age_mean: np.ndarray
    age_sd: np.ndarray
    experience_mean: np.ndarray
    experience_sd: np.ndarray
    log_salary_median: np.ndarray
    salary_sigma: np.ndarray
    # Cumulative distributions, one row per persona (sampling = searchsorted of a uniform).
    education_cdf: np.ndarray
    category_cdf: np.ndarray
    modality_cdf: np.ndarray
    city_cdf: np.ndarray
    skill_probabilities: np.ndarray
    english: np.ndarray


def compile_personas(personas: tuple[Persona, ...] = PERSONAS) -> PersonaTables:
    """Turn persona definitions into per-persona arrays."""
    weights = np.array([p.weight for p in personas])

    def cdf(rows: list[np.ndarray]) -> np.ndarray:
        out = np.cumsum(np.vstack(rows), axis=1)
        out[:, -1] = 1.0  # guard against rounding so a uniform draw always lands
        return out

    return PersonaTables(
        weights=weights / weights.sum(),
        age_mean=np.array([p.age_mean for p in personas]),
        age_sd=np.array([p.age_sd for p in personas]),
        experience_mean=np.array([p.experience_mean for p in personas]),
        experience_sd=np.array([p.experience_sd for p in personas]),
        log_salary_median=np.log([p.salary_median for p in personas]),
        salary_sigma=np.array([p.salary_sigma for p in personas]),
        education_cdf=cdf([_distribution(p.education, EDUCATION_LEVELS, "education") for p in personas]),
        category_cdf=cdf([_distribution(p.categories, JOB_CATEGORIES, "category") for p in personas]),
        modality_cdf=cdf([_distribution(p.modalities, MODALITIES, "modality") for p in personas]),
        city_cdf=cdf([city_weights(p.city_multipliers) for p in personas]),
        skill_probabilities=np.vstack([_family_skill_probabilities(p.family) for p in personas]),
        english=np.array([p.english for p in personas]),
    )


TABLES: PersonaTables = compile_personas()
assert TABLES.city_cdf.shape[1] == len(CITIES)
