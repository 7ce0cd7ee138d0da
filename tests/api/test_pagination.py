"""Page totals: exact on every page, with the COUNT skipped when the page already tells it."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from factories import make_job


@pytest.fixture
def counts():
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "count(" in statement.lower():
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("page", "page_size", "items", "counted"),
    [
        (1, 2, 2, True),  # full page: more may follow
        (2, 2, 2, True),
        (3, 2, 1, False),  # the last, partial page tells the total
        (4, 2, 0, True),  # past the end: counted
        (1, 10, 5, False),
        (1, 5, 5, True),  # full, and exactly the total: counted
    ],
)
def test_totals_are_exact_on_every_page(client, app_ctx, counts, page, page_size, items, counted):
    for i in range(5):
        make_job(city="Pasto", department="Nariño", title=f"Cargo {i}")
    counts.clear()
    body = client.get(f"/api/v1/jobs?city=Pasto&page={page}&page_size={page_size}").get_json()
    assert body["total"] == 5 and len(body["items"]) == items
    assert body["pages"] == -(-5 // page_size)
    assert bool(counts) is counted


def test_an_empty_first_page_is_a_total_of_zero_without_counting(client, app_ctx, counts):
    body = client.get("/api/v1/jobs?city=Nowhere").get_json()
    assert body["total"] == 0 and body["items"] == [] and body["pages"] == 1
    assert not counts
