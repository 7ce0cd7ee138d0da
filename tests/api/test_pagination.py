"""Page totals: exact on every page, read with the page in one statement (a COUNT alone only past the end)."""

from __future__ import annotations

import pytest

from factories import make_candidate, make_job


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


def _candidates(count: int) -> None:
    from sqlalchemy import insert

    from adflux.extensions import db
    from adflux.models import Candidate

    db.session.execute(
        insert(Candidate),
        [
            {
                "external_ref": f"PG-{n}",
                "birth_year": 1990,
                "city": "Cali" if n % 2 else "Medellín",
                "department": "Valle del Cauca" if n % 2 else "Antioquia",
                "education_level": "profesional",
                "years_experience": 3,
                "desired_category": "ventas",
                "desired_modality": "presencial",
                "expected_salary": 2_000_000,
                "skills": [],
                "languages": [],
                "marketing_consent": False,
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def test_a_cursor_walks_every_candidate_once_in_order(client, app_ctx):
    _candidates(23)
    seen: list[int] = []
    body = client.get("/api/v1/candidates?page_size=10&city=cali").get_json()
    assert body["page"] == 1 and body["total"] == 11 and body["total_estimated"] is False
    while True:
        seen.extend(item["id"] for item in body["items"])
        if not body["next_cursor"]:
            break
        body = client.get(
            f"/api/v1/candidates?page_size=10&city=cali&cursor={body['next_cursor']}"
        ).get_json()
        assert body["page"] is None and body["total"] == 11
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 11


def test_audit_and_tasks_page_newest_first_by_cursor(client, app_ctx):
    from adflux.services import task_runs

    runs = [task_runs.create_task_run(kind="bench.cursor").id for _ in range(5)]
    first = client.get("/api/v1/tasks?kind=bench.cursor&page_size=2").get_json()
    ids = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        body = client.get(f"/api/v1/tasks?kind=bench.cursor&page_size=2&cursor={cursor}").get_json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
    assert sorted(ids) == sorted(runs) and len(ids) == 5
    audit = client.get("/api/v1/audit-events?page_size=1").get_json()
    if audit["next_cursor"]:
        after = client.get(f"/api/v1/audit-events?page_size=1&cursor={audit['next_cursor']}").get_json()
        assert after["items"][0]["id"] != audit["items"][0]["id"]


@pytest.mark.parametrize("cursor", ["nope", "W10", "WzEsMl0", "eyJhIjoxfQ", "%00", "WyJhYmMiXQ", "W3RydWVd"])
def test_a_forged_cursor_is_a_422_naming_it(client, app_ctx, cursor):
    response = client.get(f"/api/v1/candidates?cursor={cursor}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "cursor" in response.get_json()["errors"]


def test_past_ten_thousand_rows_the_total_is_the_planners_estimate(client, app_ctx, monkeypatch):
    from adflux.extensions import db
    from adflux.services import pagination

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite counts exactly: it holds the embedded default's demo-sized data")
    monkeypatch.setattr(pagination, "COUNT_CAP", 30)
    _candidates(200)
    db.session.execute(db.text("ANALYZE candidates"))
    body = client.get("/api/v1/candidates?page_size=5").get_json()
    assert body["total_estimated"] is True and body["total"] > 30
    assert 100 <= body["total"] <= 400  # the planner's estimate of 200 rows, not a count
    few = client.get("/api/v1/candidates?page_size=5&city=Pasto").get_json()
    assert few["total_estimated"] is False and few["total"] == 0


def test_the_job_list_counts_again_only_when_job_openings_changed(client, app_ctx, monkeypatch):
    """The total is kept per process under job_openings' data-version token: while the token is
    the same the count is not run (a total planted under it is what comes back), and any write —
    here one from another connection, as another worker or the CLI would make — brings the
    exact count back."""
    from adflux.api import response_cache
    from adflux.extensions import db
    from adflux.services import versioned_counts

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the count is skipped on PostgreSQL only (a CASE over the token)")
    monkeypatch.delitem(app_ctx.extensions, response_cache.EXTENSION, raising=False)  # build every page
    for i in range(3):
        make_job(city="Tunja", department="Boyacá", title=f"Cargo {i}")
    path = "/api/v1/jobs?city=Tunja&page_size=2"
    assert client.get(path).get_json()["total"] == 3
    remembered = [k for k, v in versioned_counts._known.items() if v.total == 3]
    assert remembered, "the count was remembered under the table's token"
    known = versioned_counts._known[remembered[-1]]
    versioned_counts.remember(remembered[-1], known.token, 99, False)  # plant a total under it
    assert client.get(path).get_json()["total"] == 99  # same token: the count did not run

    with db.engine.connect() as other:  # another writer: the trigger moves the token
        other.execute(db.text("UPDATE job_openings SET title = title || '.' WHERE city = 'Tunja'"))
        other.commit()
    assert client.get(path).get_json()["total"] == 3
    make_job(city="Tunja", department="Boyacá", title="Cargo 3")
    body = client.get(path).get_json()
    assert body["total"] == 4 and body["pages"] == 2 and len(body["items"]) == 2
    assert client.get("/api/v1/jobs?city=Tunja&page=3&page_size=2").get_json()["total"] == 4  # past the end


def test_the_candidate_list_counts_again_only_when_candidates_changed(client, app_ctx, monkeypatch):
    from adflux.api import response_cache
    from adflux.extensions import db
    from adflux.services import versioned_counts

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the count is skipped on PostgreSQL only (a CASE over the token)")
    monkeypatch.delitem(app_ctx.extensions, response_cache.EXTENSION, raising=False)  # build every page
    _candidates(5)  # two in Cali
    path = "/api/v1/candidates?city=cali&page_size=1"
    assert client.get(path).get_json()["total"] == 2
    remembered = [k for k, v in versioned_counts._known.items() if v.total == 2]
    known = versioned_counts._known[remembered[-1]]
    versioned_counts.remember(remembered[-1], known.token, 77, False)
    assert client.get(path).get_json()["total"] == 77  # same token: not counted again
    with db.engine.connect() as other:
        other.execute(db.text("DELETE FROM candidates WHERE city = 'Cali' AND external_ref = 'PG-1'"))
        other.commit()
    body = client.get(path).get_json()
    assert body["total"] == 1 and body["total_estimated"] is False
    make_candidate(city="Cali", department="Valle del Cauca")  # one more, through the service
    assert client.get(path).get_json()["total"] == 2


def test_a_segments_members_are_counted_afresh_as_assignments_change(client, app_ctx, monkeypatch):
    """Assignments live in candidate_segments, which has no token: that list always counts."""
    from adflux.extensions import db
    from adflux.models import CandidateSegment
    from factories import make_segments

    segment = make_segments(1)[0]
    people = [make_candidate() for _ in range(3)]
    path = f"/api/v1/candidates?segment_id={segment.id}&page_size=1"
    counts = []
    for person in people:
        db.session.add(
            CandidateSegment(model_id=segment.model_id, candidate_id=person.id, segment_id=segment.id)
        )
        db.session.commit()
        counts.append(client.get(path).get_json()["total"])
    assert counts == [1, 2, 3]


def test_a_deep_page_number_found_by_its_keys_holds_the_rows_offset_gives(app_ctx, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from adflux.extensions import db
    from adflux.models import AuditEvent
    from adflux.services import audit, pagination

    moment = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [  # ties on `at` (three events a second): the id orders them
        {"at": moment - timedelta(seconds=n // 3), "actor": f"a{n % 2}", "action": "x", "entity_type": "job"}
        for n in range(47)
    ]
    db.session.execute(insert(AuditEvent), rows)
    db.session.commit()

    def pages(**filters):
        return [
            ([e.id for e in p.items], p.total, p.page)
            for p in (audit.list_events(page=n, page_size=5, **filters) for n in range(1, 12))
        ]

    by_offset = {"": pages(), "a1": pages(actor="a1")}
    monkeypatch.setattr(pagination, "SEEK_FROM", 5)  # every page after the first by its keys
    assert pages() == by_offset[""] and pages(actor="a1") == by_offset["a1"]
    assert by_offset[""][9][0] and by_offset[""][10][0] == []  # the last page, and one past the end
    assert by_offset["a1"][4][0] and by_offset["a1"][5] == ([], 23, 6)
