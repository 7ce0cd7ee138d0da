"""Colombian cities with their departments and approximate urban population (thousands).

Population figures are rounded DANE projections; they only serve as sampling weights, so a few
percent of error does not matter.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class City(NamedTuple):
    name: str
    department: str
    population_k: int


CITIES: tuple[City, ...] = (
    City("Bogotá D.C.", "Bogotá D.C.", 7900),
    City("Medellín", "Antioquia", 2600),
    City("Cali", "Valle del Cauca", 2280),
    City("Barranquilla", "Atlántico", 1300),
    City("Cartagena", "Bolívar", 1060),
    City("Cúcuta", "Norte de Santander", 790),
    City("Soacha", "Cundinamarca", 700),
    City("Soledad", "Atlántico", 680),
    City("Bucaramanga", "Santander", 620),
    City("Bello", "Antioquia", 560),
    City("Villavicencio", "Meta", 550),
    City("Ibagué", "Tolima", 540),
    City("Santa Marta", "Magdalena", 540),
    City("Valledupar", "Cesar", 530),
    City("Montería", "Córdoba", 500),
    City("Pereira", "Risaralda", 480),
    City("Manizales", "Caldas", 450),
    City("Pasto", "Nariño", 390),
    City("Neiva", "Huila", 370),
    City("Popayán", "Cauca", 330),
    City("Palmira", "Valle del Cauca", 320),
    City("Armenia", "Quindío", 310),
    City("Sincelejo", "Sucre", 300),
    City("Itagüí", "Antioquia", 290),
    City("Floridablanca", "Santander", 270),
    City("Envigado", "Antioquia", 240),
    City("Tunja", "Boyacá", 200),
    City("Riohacha", "La Guajira", 200),
)

CITY_NAMES: tuple[str, ...] = tuple(c.name for c in CITIES)
CITY_DEPARTMENTS: tuple[str, ...] = tuple(c.department for c in CITIES)
CITY_DEPARTMENT: dict[str, str] = {c.name: c.department for c in CITIES}
CITY_INDEX: dict[str, int] = {name: i for i, name in enumerate(CITY_NAMES)}
POPULATION_WEIGHTS: np.ndarray = np.array([c.population_k for c in CITIES], dtype=np.float64)
POPULATION_WEIGHTS /= POPULATION_WEIGHTS.sum()


def city_weights(multipliers: dict[str, float] | None = None) -> np.ndarray:
    """Population weights over `CITIES`, with some cities made more likely, normalised to 1."""
    weights = POPULATION_WEIGHTS.copy()
    for name, factor in (multipliers or {}).items():
        weights[CITY_INDEX[name]] *= factor
    return weights / weights.sum()
