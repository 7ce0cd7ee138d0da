"""Colombian places the adapters can target, with the ids each platform needs."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A city with coordinates (for radius targeting) and its GeoNames id (TikTok locations)."""

    key: str
    name: str
    department: str
    latitude: float
    longitude: float
    geonames_id: int


COUNTRY_GEONAMES_ID = {"CO": 3686110}
# Google geo target constant for the country (criterion id 2170 = Colombia).
COUNTRY_GOOGLE_GEO_TARGET = {"CO": 2170}

PLACES: dict[str, Place] = {
    place.key: place
    for place in (
        Place("bogota", "Bogotá", "Bogotá D.C.", 4.7110, -74.0721, 3688689),
        Place("medellin", "Medellín", "Antioquia", 6.2442, -75.5812, 3674962),
        Place("cali", "Cali", "Valle del Cauca", 3.4516, -76.5320, 3687925),
        Place("barranquilla", "Barranquilla", "Atlántico", 10.9685, -74.7813, 3689147),
        Place("cartagena", "Cartagena", "Bolívar", 10.3910, -75.4794, 3687238),
        Place("bucaramanga", "Bucaramanga", "Santander", 7.1193, -73.1227, 3688465),
        Place("pereira", "Pereira", "Risaralda", 4.8133, -75.6961, 3672486),
        Place("manizales", "Manizales", "Caldas", 5.0703, -75.5138, 3675443),
        Place("cucuta", "Cúcuta", "Norte de Santander", 7.8939, -72.5078, 3685533),
        Place("ibague", "Ibagué", "Tolima", 4.4389, -75.2322, 3680656),
        Place("santa_marta", "Santa Marta", "Magdalena", 11.2408, -74.1990, 3668605),
        Place("villavicencio", "Villavicencio", "Meta", 4.1420, -73.6266, 3666304),
        Place("pasto", "Pasto", "Nariño", 1.2136, -77.2811, 3672778),
        Place("neiva", "Neiva", "Huila", 2.9273, -75.2819, 3673899),
        Place("armenia", "Armenia", "Quindío", 4.5339, -75.6811, 3689560),
    )
}


def place_key(name: str) -> str:
    """Normalise a city name to a key: 'Bogotá D.C.' -> 'bogota'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("d.c.", "").replace(",", " ").strip()
    return "_".join(text.split())


def find_place(name: str) -> Place | None:
    """The known place for a city name, if any."""
    return PLACES.get(place_key(name))
