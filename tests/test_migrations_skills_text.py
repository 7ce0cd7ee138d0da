"""Migration 0028 fills `candidates.skills_text` for the candidates already there, and undoes it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models.skills_text import SEPARATOR
from adflux.services.database import upgrade_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database  # noqa: F401  (fixture)

ROWS = {
    "M-1": (["python", "sql"], f"python{SEPARATOR}sql"),
    "M-2": ([], ""),
    "M-3": ([f"a{SEPARATOR}b"], None),
    "M-4": (["Atención", 'con "comillas"'], f'Atención{SEPARATOR}con "comillas"'),
}


def _round_trip(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0027")
        with db.engine.begin() as conn:
            for ref, (skills, _) in ROWS.items():
                conn.execute(
                    text(
                        "INSERT INTO candidates (external_ref, birth_year, city, department, education_level,"
                        " years_experience, desired_category, desired_modality, expected_salary, skills,"
                        " languages, marketing_consent, created_at, updated_at) VALUES (:ref, 1990, 'Cali',"
                        " 'Valle del Cauca', 'tecnologo', 2, 'ventas', 'presencial', 2000000, :skills, '[]',"
                        " false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"ref": ref, "skills": json.dumps(skills)},
                )
        db.session.remove()
        upgrade_database(revision="0028")
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT external_ref, skills_text FROM candidates")).all())
        assert stored == {ref: joined for ref, (_, joined) in ROWS.items()}
        downgrade(revision="0027")
        with db.engine.connect() as conn:
            assert "skills_text" not in {c["name"] for c in inspect(conn).get_columns("candidates")}
            # the candidates' other triggers (data versions) survive the downgrade
            conn.execute(text("UPDATE candidates SET city = 'Pasto'"))
            assert (
                conn.execute(text("SELECT count(*) FROM data_versions WHERE name = 'candidates'")).scalar()
                == 1
            )
        db.engine.dispose()


def test_skills_text_migrates_up_and_down_with_candidates_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 's.db'}", str(tmp_path))


@pytest.mark.postgres
def test_skills_text_migrates_up_and_down_with_candidates_on_postgres(empty_postgres_database, tmp_path):  # noqa: F811
    _round_trip(empty_postgres_database, str(tmp_path))
