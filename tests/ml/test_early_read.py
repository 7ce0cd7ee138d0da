"""The candidates' read started before the app (`adflux train-segments`) is the one training takes."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.extensions import db
from adflux.services import segmentation_data
from factories import make_candidate


def _database_uri() -> str:
    return db.engine.url.render_as_string(hide_password=False)


def test_an_early_read_is_taken_once_instead_of_reading_again(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the early read is a PostgreSQL COPY")
    for skills in (["python", "sql"], [], ["excel"]):
        make_candidate(skills=skills)
    expected = segmentation_data.read_candidate_columns()
    assert segmentation_data.start_early_read(_database_uri())
    # Wait for it to finish, then add a candidate it cannot have seen.
    with segmentation_data._early_lock:
        pending = next(iter(segmentation_data._early_reads.values()))
    pending.result(timeout=60)
    late = make_candidate(skills=["docker"])

    taken = segmentation_data.read_candidate_columns()
    np.testing.assert_array_equal(taken.ids, expected.ids)
    assert taken.table.equals(expected.table)
    assert late.id not in taken.ids
    # taken once: the next read is a fresh one
    assert late.id in segmentation_data.read_candidate_columns().ids


def test_no_early_read_for_sqlite_and_a_failed_one_is_read_again(app_ctx):
    assert not segmentation_data.start_early_read("sqlite:////tmp/adflux-none.db")
    if db.engine.dialect.name != "postgresql":
        return
    make_candidate(skills=["python"])
    # An early read of the same database that fails (here: a role that does not exist, with the
    # database's URL otherwise) is logged and the candidates are read again.
    url = db.engine.url
    assert segmentation_data.start_early_read(
        url.set(username="adflux_no_such_role").render_as_string(hide_password=False)
    )
    with segmentation_data._early_lock:
        key = next(iter(segmentation_data._early_reads))
        segmentation_data._early_reads[segmentation_data._url_key(url)] = segmentation_data._early_reads.pop(
            key
        )
    columns = segmentation_data.read_candidate_columns()
    assert len(columns) == 1
    assert not segmentation_data._early_reads


def test_an_early_read_builds_the_models_input_frame_for_the_year_it_was_given(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the early read is a PostgreSQL COPY")
    import pandas as pd

    from adflux.ml.features import candidate_frame

    for skills in (["python", "sql"], [], ["excel"]):
        make_candidate(skills=skills)
    assert segmentation_data.start_early_read(_database_uri(), reference_year=2026)
    taken = segmentation_data.read_candidate_columns()
    assert list(taken.frames) == [2026]  # built by the early thread, before anyone asked
    built = taken.frames[2026]
    assert taken.frame(2026) is built  # the training takes it as it is
    pd.testing.assert_frame_equal(built, candidate_frame(taken.table, reference_year=2026))
    # another year (the year turned during start-up): built then, from the same columns
    assert taken.frame(2027)["age"].iloc[0] == built["age"].iloc[0] + 1
