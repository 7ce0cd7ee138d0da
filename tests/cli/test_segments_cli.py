"""`adflux train-segments`, `view-segments`, `models list|show|activate` and `drift`."""

from __future__ import annotations

import json

from flask import Flask

from adflux.services.seeding import seed_database


def test_train_view_list_activate_and_drift_from_the_command_line(cli, app: Flask) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        seed_database(candidates=1000, jobs=0, seed=8)

    trained = cli("train-segments", "--k-min", "7", "--k-max", "9")
    assert trained.exit_code == 0, trained.output
    assert "Modelo v1" in trained.output and "Búsqueda de k" in trained.output
    assert "todos los segmentos bien formados" in trained.output

    segments = cli("view-segments")
    assert segments.exit_code == 0 and "Segmentos del modelo v1" in segments.output
    assert " · " in segments.output

    cli("train-segments", "--k-min", "3", "--k-max", "3", "--force")
    listed = cli("--json", "models", "list")
    assert [m["version"] for m in json.loads(listed.output)["items"]] == [2, 1]

    rolled = cli("models", "activate", "1")
    assert rolled.exit_code == 0 and "Modelo v1 activo" in rolled.output
    again = cli("models", "activate", "1")
    assert again.exit_code == 1 and "ya está activa" in again.output

    drift = cli("drift", "--refresh")
    assert drift.exit_code == 0 and "PSI por variable" in drift.output

    members = cli(
        "--json",
        "view-candidates",
        "--segment-id",
        str(json.loads(cli("--json", "view-segments").output)["items"][0]["id"]),
    )
    assert json.loads(members.output)["total"] > 0


def test_train_segments_reports_a_failed_training(cli, app: Flask) -> None:  # type: ignore[no-untyped-def]
    result = cli("train-segments")
    assert result.exit_code == 1
    assert "el entrenamiento falló" in result.output and "candidatos" in result.output


def test_seed_takes_a_persona_mix_and_refuses_a_bad_one(cli, app: Flask) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from adflux.extensions import db
    from adflux.models import CandidatePersona

    bad = cli("seed", "--candidates", "10", "--jobs", "0", "--persona-mix", "skewed")
    assert bad.exit_code != 0 and "persona mix must be one of even, mild, colombia" in bad.output
    seeded = cli(
        "--json",
        "seed",
        "--candidates",
        "2000",
        "--jobs",
        "0",
        "--persona-mix",
        "colombia",
        "--overlap",
        "0.2",
    )
    assert seeded.exit_code == 0, seeded.output
    assert json.loads(seeded.output)["candidates_inserted"] == 2000
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(CandidatePersona.persona, func.count()).group_by(CandidatePersona.persona)
            ).all()
        )
    assert sum(counts.values()) == 2000
    assert (
        max(counts, key=counts.__getitem__) == "operario_produccion" and counts["operario_produccion"] > 700
    )
