"""The candidates' read started before the app (`adflux train-segments`) is the one training takes,
with the model's input frame built and its feature steps fitted by the thread that read it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adflux.extensions import db
from adflux.services import candidate_read, segmentation_data
from factories import make_candidate


def _database_uri() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _needs_postgresql() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the early read is a PostgreSQL COPY")


def test_an_early_read_is_taken_once_instead_of_reading_again(app_ctx):
    _needs_postgresql()
    for skills in (["python", "sql"], [], ["excel"]):
        make_candidate(skills=skills)
    expected = segmentation_data.read_candidate_columns()
    assert candidate_read.start_early_read(_database_uri())
    assert candidate_read.early_read_started(_database_uri())
    assert not candidate_read.start_early_read(_database_uri())  # one read per database at a time
    # Wait for it to finish, then add a candidate it cannot have seen.
    with candidate_read._early_lock:
        pending = next(iter(candidate_read._early_reads.values()))
    pending.result(timeout=60)
    late = make_candidate(skills=["docker"])

    taken = segmentation_data.read_candidate_columns()
    np.testing.assert_array_equal(taken.ids, expected.ids)
    assert taken.table.equals(expected.table)
    assert late.id not in taken.ids
    # taken once: the next read is a fresh one
    assert not candidate_read.early_read_started(_database_uri())
    assert late.id in segmentation_data.read_candidate_columns().ids


def test_no_early_read_for_sqlite_and_a_failed_one_is_read_again(app_ctx):
    assert not candidate_read.start_early_read("sqlite:////tmp/adflux-none.db")
    if db.engine.dialect.name != "postgresql":
        return
    make_candidate(skills=["python"])
    # An early read of the same database that fails (here: a role that does not exist, with the
    # database's URL otherwise) is logged and the candidates are read again.
    url = db.engine.url
    assert candidate_read.start_early_read(
        url.set(username="adflux_no_such_role").render_as_string(hide_password=False)
    )
    with candidate_read._early_lock:
        key = next(iter(candidate_read._early_reads))
        candidate_read._early_reads[candidate_read._url_key(url)] = candidate_read._early_reads.pop(key)
    columns = segmentation_data.read_candidate_columns()
    assert len(columns) == 1
    assert not candidate_read._early_reads


def test_an_early_read_builds_the_frame_and_fits_the_feature_steps_for_its_year(app_ctx):
    _needs_postgresql()
    import pandas as pd

    from adflux.ml.features import candidate_frame

    for skills in (["python", "sql"], [], ["excel"]):
        make_candidate(skills=skills)
    assert candidate_read.start_early_read(_database_uri(), reference_year=2026)
    taken = segmentation_data.read_candidate_columns()
    assert list(taken.frames) == [2026]  # built by the early thread, before anyone asked
    assert list(taken.prepared) == [2026]
    built = taken.frames[2026]
    assert taken.frame(2026) is built  # the training takes it as it is
    pd.testing.assert_frame_equal(built, candidate_frame(taken.table, reference_year=2026))
    prepared = taken.take_prepared(2026)
    assert prepared.frame is built and prepared.X.shape[0] == 3
    assert taken.take_prepared(2026) is None  # taken once
    # another year (the year turned during start-up): built then, from the same columns
    assert taken.frame(2027)["age"].iloc[0] == built["age"].iloc[0] + 1


def test_a_training_on_prepared_features_is_the_training_that_fits_them_itself(
    make_candidates, reference_year
):
    from adflux.ml import training
    from adflux.ml.features import candidate_frame

    frame = candidate_frame(make_candidates(900, seed=4), reference_year=reference_year)
    prepared = training.prepare_features(frame)
    ahead = training.train_segmenter(frame, k_min=2, k_max=6, random_state=7, prepared=prepared)
    itself = training.train_segmenter(frame.copy(), k_min=2, k_max=6, random_state=7)
    assert ahead.pipeline.named_steps["features"] is prepared.steps[0][1]  # taken, not refitted
    assert ahead.k == itself.k
    np.testing.assert_array_equal(ahead.labels, itself.labels)
    np.testing.assert_array_equal(
        ahead.pipeline.named_steps["cluster"].cluster_centers_,
        itself.pipeline.named_steps["cluster"].cluster_centers_,
    )
    np.testing.assert_array_equal(ahead.pipeline.predict(frame), itself.pipeline.predict(frame))


def test_prepared_features_are_taken_only_for_the_same_steps_on_the_same_frame(
    make_candidates, reference_year
):
    from adflux.ml import pipeline, training
    from adflux.ml.features import candidate_frame

    frame = candidate_frame(make_candidates(300, seed=5), reference_year=reference_year)
    prepared = training.prepare_features(frame)
    steps = pipeline.build_segmenter(3).steps[:-1]
    assert prepared.fits(frame, steps)
    assert not prepared.fits(frame.copy(), steps)  # another frame, even an equal one
    assert not prepared.fits(frame, pipeline.build_segmenter(3, max_skills=5).steps[:-1])
    other_weights = {"numeric": 2.0, "skills": 1.0}
    assert not prepared.fits(frame, pipeline.build_segmenter(3, weights=other_weights).steps[:-1])
    # not taken: the training fits its own steps (here with 5 skills at most) on the frame
    result = training.train_segmenter(frame, k_min=2, k_max=3, max_skills=5, prepared=prepared)
    assert result.pipeline.named_steps["features"] is not prepared.steps[0][1]
    assert result.pipeline.named_steps["features"].max_skills == 5


def test_the_read_module_starts_without_the_app_the_models_or_the_ml_stack():
    probe = (
        "import sys, json; import adflux.services.candidate_read; "
        "print(json.dumps(sorted(m for m in ('pandas', 'sklearn', 'scipy', 'adflux.models', "
        "'adflux.extensions', 'adflux.app', 'flask_sqlalchemy') if m in sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


def test_a_training_here_starts_the_read_unless_a_worker_trains_or_the_base_streams(app_ctx):
    from adflux.settings import Settings

    base = Settings(database_url=_database_uri())
    assert not candidate_read.start_for_training(
        base.replace(celery_broker_url="redis://127.0.0.1:6379/9"), reference_year=2026
    )
    assert not candidate_read.start_for_training(
        base.replace(database_url="sqlite:////tmp/adflux-none.db"), reference_year=2026
    )
    if db.engine.dialect.name != "postgresql":
        return
    make_candidate(skills=["python"])
    db.session.commit()
    # a base at or above the streaming threshold is read in two passes, never whole
    assert not candidate_read.start_for_training(
        base.replace(segmentation_streaming_rows=1), reference_year=2026
    )
    assert not candidate_read.early_read_started(_database_uri())
    assert candidate_read.start_for_training(base, reference_year=2026)
    assert not candidate_read.start_for_training(base, reference_year=2026)  # already under way
    taken = segmentation_data.read_candidate_columns()
    assert len(taken) == 1 and list(taken.prepared) == [2026]


def test_copy_csv_keeps_null_and_empty_skills_apart_in_the_dictionary_column():
    """COPY CSV writes NULL unquoted and '' quoted; the skills text is parsed dictionary-encoded
    (each distinct list split once) and a NULL one falls back to the jsonb text."""

    def row(i: int, joined: str, json_text: str) -> str:
        return f"{i},1990,Bogotá,Cundinamarca,profesional,3,tecnologia,remoto,2000000,{joined},{json_text}\n"

    buffer = "".join(
        [
            row(1, "python\x1fsql", ""),  # joined text
            row(2, '""', ""),  # an empty list, joined
            row(3, "", '"[""excel""]"'),  # no joined text: the jsonb text
            row(4, "", ""),  # neither: no skills
            row(5, "python\x1fsql", ""),  # the same list again
        ]
    ).encode()
    table = candidate_read.parse_copy_csv(buffer, candidate_read.PG_TYPES)
    joined = table.column("skills_text").combine_chunks()
    assert joined.type.value_type == "string" and joined.null_count == 2
    assert sorted(joined.dictionary.to_pylist()) == ["", "python\x1fsql"]
    ids, columns = candidate_read.finish_postgresql(table)
    skills = columns.column("skills").combine_chunks()
    assert list(ids) == [1, 2, 3, 4, 5]
    assert skills.dictionary.take(skills.indices).to_pylist() == [
        ["python", "sql"],
        [],
        ["excel"],
        [],
        ["python", "sql"],
    ]
