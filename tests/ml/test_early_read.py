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
