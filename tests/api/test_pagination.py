"""Page totals: exact on every page, read with the page in one statement (a COUNT alone only past the end)."""

from __future__ import annotations

import pytest

from factories import make_job


@pytest.mark.parametrize(
    ("page", "page_size", "items", "queries"),
    [
        (1, 2, 2, 1),  # the page and its total in one statement
        (2, 2, 2, 1),
        (3, 2, 1, 1),
        (4, 2, 0, 2),  # past the end: no row carries the total, so a COUNT follows
        (1, 10, 5, 1),
        (1, 5, 5, 1),
    ],
)
def test_totals_are_exact_on_every_page(client, app_ctx, job_statements, page, page_size, items, queries):
    for i in range(5):
        make_job(city="Pasto", department="Nariño", title=f"Cargo {i}")
    job_statements.clear()
    body = client.get(f"/api/v1/jobs?city=Pasto&page={page}&page_size={page_size}").get_json()
    assert body["total"] == 5 and len(body["items"]) == items
    assert body["pages"] == -(-5 // page_size)
    assert len(job_statements) == queries


def test_an_empty_first_page_is_a_total_of_zero_in_one_statement(client, app_ctx, job_statements):
    body = client.get("/api/v1/jobs?city=Nowhere").get_json()
    assert body["total"] == 0 and body["items"] == [] and body["pages"] == 1
    assert len(job_statements) == 1
