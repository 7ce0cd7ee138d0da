"""API answers encoded by orjson (adflux.json_answers) are the bytes Flask's encoder wrote."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from adflux.json_answers import OrjsonProvider
from factories import make_job


def _stdlib(app: Flask, obj: Any) -> bytes:
    """What Flask's own provider wrote for `obj` out of debug mode."""
    text = json.dumps(
        obj, default=app.json.default, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return f"{text}\n".encode()


@dataclasses.dataclass
class _Point:
    x: int
    label: str


VALUES: list[Any] = [
    {"título": "Oferta de Ingeniería en Bogotá — 100 % remoto", "ñ": "€ 😀", "z": 1, "a": [1, 2.5, None]},
    {"control": 'tab\tnew\nline\r\x01\x1f"quote" \\ back\u2028sep\x7f'},
    {"floats": [0.1, 1 / 3, 12.5, 1e16, 1e22, -0.0, 3.0, 1234567.89, 2.0**53], "big": 10**18},
    {"nested": {"b": {"d": [], "c": {}}, "a": [True, False, None]}, "": "empty key"},
    {"when": datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC), "day": date(2026, 12, 7)},
    {"amount": Decimal("1234.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"point": _Point(3, "Cali")},
    [1, "dos", 3.0],
    "texto",
    None,
]


def test_answers_are_the_bytes_of_flasks_encoder(app):
    assert isinstance(app.json, OrjsonProvider)
    with app.test_request_context():
        for value in VALUES:
            assert app.json.response(value).get_data() == _stdlib(app, value), value


def test_what_orjson_refuses_goes_through_the_standard_library(app):
    with app.test_request_context():
        for value in ({"huge": 2**70}, {10: "int keys", 2: "sorted as numbers"}):
            assert app.json.response(value).get_data() == _stdlib(app, value), value


def test_pretty_answers_in_debug_mode_are_flasks(app):
    with app.test_request_context():
        app.json.compact = False
        try:
            body = app.json.response({"b": 1, "a": "ñ"}).get_data()
        finally:
            app.json.compact = None
    assert body == b'{\n  "a": "\xc3\xb1",\n  "b": 1\n}\n'


def test_a_list_answer_is_byte_identical_to_the_standard_encoding(client, app_ctx, app):
    for i in range(3):
        make_job(title=f"Auxiliar de bodega {i} — Medellín", city="Medellín", salary_max=2_500_000 + i)
    response = client.get("/api/v1/jobs")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_data()
    parsed = json.loads(body)
    assert len(parsed["items"]) == 3
    assert body == _stdlib(app, parsed)
    error = client.get("/api/v1/jobs/999999")
    assert error.status_code == 404 and error.get_data() == _stdlib(app, error.get_json())
