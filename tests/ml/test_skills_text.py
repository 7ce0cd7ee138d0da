"""`candidates.skills_text` stays in step with `skills` for every writer, and the segmentation's
bulk read gives the same skills from it as from the jsonb."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select, text

from adflux.extensions import db
from adflux.ml.features import candidate_frame
from adflux.ml.list_columns import list_column
from adflux.models import Candidate
from adflux.models.skills_text import SEPARATOR, skills_text
from adflux.services import segmentation_data
from adflux.services.imports import import_candidates
from adflux.services.seeding import seed_database
from factories import make_candidate

# (skills, joined) — None: not representable, the reader parses the jsonb instead.
CASES = [
    (["python", "sql"], f"python{SEPARATOR}sql"),
    ([], ""),
    (
        ["Atención al cliente", 'dice "hola"', "a, b", "x\\y"],
        SEPARATOR.join(["Atención al cliente", 'dice "hola"', "a, b", "x\\y"]),
    ),
    ([f"uno{SEPARATOR}dos"], None),
    (["python", 5], None),
    ("python", None),
    (None, None),
]


@pytest.mark.parametrize(("skills", "joined"), CASES)
def test_the_joined_form_or_none_when_it_cannot_be_split_back(skills, joined):
    assert skills_text(skills) == joined
    if joined is not None:
        assert (joined.split(SEPARATOR) if joined else []) == skills


def _stored(candidate_id: int) -> tuple[object, str | None]:
    row = db.session.execute(
        text("SELECT skills, skills_text FROM candidates WHERE id = :id"), {"id": candidate_id}
    ).one()
    sqlite_text = db.engine.dialect.name == "sqlite" and isinstance(row[0], str)
    skills = json.loads(row[0]) if sqlite_text else row[0]
    return skills, row[1]


def test_orm_writes_keep_it_in_step(app_ctx):
    candidate = make_candidate(skills=["python", "sql"])
    assert _stored(candidate.id) == (["python", "sql"], f"python{SEPARATOR}sql")
    candidate.skills = ["excel"]
    db.session.commit()
    assert _stored(candidate.id) == (["excel"], "excel")


def test_imports_keep_it_in_step_on_insert_and_update(app_ctx):
    header = (
        "external_ref,birth_year,city,department,education_level,years_experience,desired_category,"
        "desired_modality,expected_salary,skills,languages,email,marketing_consent\n"
    )
    row = "C-9,1990,Cali,Valle del Cauca,tecnologo,5,ventas,presencial,2500000,{skills},español,"
    row += "a@example.com,sí\n"
    for skills, joined in (("ventas;negociación", f"ventas{SEPARATOR}negociación"), ("crm", "crm")):
        report = import_candidates(content=(header + row.format(skills=skills)).encode(), filename="c.csv")
        assert report.failed == 0, report.errors
        candidate_id = db.session.scalar(select(Candidate.id).where(Candidate.external_ref == "C-9"))
        assert _stored(candidate_id)[1] == joined


def test_seeding_writes_it_for_every_candidate(app_ctx):
    seed_database(candidates=300, jobs=0, seed=3)
    rows = db.session.execute(select(Candidate.skills, Candidate.skills_text)).all()
    assert len(rows) == 300
    assert all(joined == skills_text(skills) and joined is not None for skills, joined in rows)


@pytest.mark.postgres
def test_postgresql_fills_it_for_writers_that_do_not(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    insert = text(
        "INSERT INTO candidates (external_ref, birth_year, city, department, education_level,"
        " years_experience, desired_category, desired_modality, expected_salary, skills, languages,"
        " marketing_consent, created_at, updated_at) VALUES (:ref, 1990, 'Cali', 'Valle del Cauca',"
        " 'tecnologo', 2, 'ventas', 'presencial', 2000000, CAST(:skills AS jsonb), '[]', false, now(), now())"
        " RETURNING id"
    )
    for n, (skills, joined) in enumerate(CASES):
        candidate_id = db.session.execute(
            insert, {"ref": f"RAW-{n}", "skills": json.dumps(skills)}
        ).scalar_one()
        assert _stored(candidate_id)[1] == joined, skills
        # an UPDATE of skills alone (psql, another program) recomputes it
        db.session.execute(
            text("UPDATE candidates SET skills = CAST(:s AS jsonb) WHERE id = :id"),
            {"s": json.dumps(["nuevo"]), "id": candidate_id},
        )
        assert _stored(candidate_id)[1] == "nuevo"
    db.session.rollback()


def test_the_bulk_read_gives_the_skills_the_jsonb_holds(app_ctx):
    written = [
        skills for skills, _ in CASES if isinstance(skills, list) and all(isinstance(t, str) for t in skills)
    ]
    for skills in written:
        make_candidate(skills=skills)
    # rows the ORM cannot write: a scalar, a number in the list, JSON null
    odd = ['"python"', '["python", 5]', "null"]
    if db.engine.dialect.name == "postgresql":
        for raw in odd:
            candidate = make_candidate()
            db.session.execute(
                text("UPDATE candidates SET skills = CAST(:s AS jsonb) WHERE id = :id"),
                {"s": raw, "id": candidate.id},
            )
        db.session.commit()
        assert db.session.scalar(text("SELECT count(*) FROM candidates WHERE skills_text IS NULL")) == 4
    columns = segmentation_data.read_candidate_columns()
    frame = candidate_frame(columns.table, reference_year=2026)
    lists = list_column(frame["skills"])
    assert lists is not None
    got = lists.decoded().to_pylist()
    expected = [[t for t in s] for s in written]
    if db.engine.dialect.name == "postgresql":
        expected += [["python"], ["python", "5"], []]
    assert len(got) == len(columns) == len(expected)
    order = np.argsort(columns.ids)
    assert [got[i] for i in order] == expected
