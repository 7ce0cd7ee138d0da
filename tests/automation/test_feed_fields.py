"""A feed's raw values as job-opening fields: names, places, money, dates and statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adflux.services.errors import ValidationFailed
from adflux.services.feeds.fields import check_mapping, normalise

BASE = {"referencenumber": "R1", "title": "Enfermero", "company": "Clínica", "url": "https://x.co/1"}


def _fields(**raw):
    record = normalise(("record", 1), {**BASE, **raw}, {})
    assert record.error is None, record.error
    return record


@pytest.mark.parametrize(
    ("city", "expected"),
    [("Bogotá", ("Bogotá D.C.", "Bogotá D.C.")), ("bogota d.c.", ("Bogotá D.C.", "Bogotá D.C.")),
     ("MEDELLIN", ("Medellín", "Antioquia")), ("  cúcuta ", ("Cúcuta", "Norte de Santander"))],
)  # fmt: skip
def test_cities_are_matched_without_accents_or_case_and_get_their_department(city, expected):
    fields = _fields(city=city, category="Salud").fields
    assert (fields["city"], fields["department"]) == expected


@pytest.mark.parametrize(
    ("salary", "expected"),
    [("$2.500.000 - $3.000.000", (2_500_000, 3_000_000)), ("3,200,000 COP", (3_200_000, 3_200_000)),
     ("A convenir", (None, None)), ("", (None, None))],
)  # fmt: skip
def test_salaries_written_as_text_become_a_range(salary, expected):
    fields = _fields(city="Cali", category="ventas", salary=salary).fields
    assert (fields["salary_min"], fields["salary_max"]) == expected


def test_labels_become_codes_and_statuses_close():
    record = _fields(
        city="Cali",
        category="Logística y transporte",
        jobtype="Teletrabajo",
        education="Tecnólogo",
        status="Cubierta",
    )
    assert record.fields["category"] == "logistica_transporte" and record.fields["modality"] == "remoto"
    assert record.fields["education_required"] == "tecnologo" and record.closed


def test_an_expiry_date_ends_at_midnight_in_bogota():
    record = _fields(city="Cali", category="ventas", expiration_date="2026-12-31")
    assert record.expires_at == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [({"category": "Astrología", "city": "Cali"}, "unknown category 'Astrología'"),
     ({"category": "ventas", "city": "Macondo"}, "city 'Macondo' is not one AdFlux knows"),
     ({"category": "ventas", "city": "Cali", "expiration_date": "mañana"}, "is not a date")],
)  # fmt: skip
def test_rows_that_cannot_be_openings_say_why(raw, reason):
    record = normalise(("line", 7), {**BASE, **raw}, {})
    assert reason in (record.error or "")


def test_the_fingerprint_ignores_status_but_not_content():
    open_ = _fields(city="Cali", category="ventas")
    filled = _fields(city="Cali", category="ventas", status="filled")
    raised = _fields(city="Cali", category="ventas", salary="$5.000.000")
    assert open_.fingerprint == filled.fingerprint != raised.fingerprint


def test_a_mapping_names_the_feeds_own_fields():
    raw = {**BASE, "cargo": "Chef", "title": "x", "ciudad": "Cali", "area": "Hotelería y turismo"}
    record = normalise(("record", 1), raw, check_mapping({"title": "cargo", "category": "area"}))
    assert (record.fields["title"], record.fields["category"]) == ("Chef", "hoteleria_turismo")
    with pytest.raises(ValidationFailed):
        check_mapping({"titulo": "cargo"})
