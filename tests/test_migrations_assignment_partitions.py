"""Migration 0033: candidate_segments becomes one partition per model version (PostgreSQL), with
every row, its keys and its index; the bulk write then attaches a version's partition, pruning
drops it; the downgrade brings back the plain table with the rows kept. SQLite: nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from adflux.app import create_app
from adflux.extensions import db
from adflux.services import segmentation
from adflux.services.database import upgrade_database
from adflux.services.seeding import seed_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database  # noqa: F401  (fixture)

N = 1200
K = {"k_min": 3, "k_max": 3, "force": True}


def _shape() -> dict[str, object]:
    with db.engine.connect() as conn:
        kind = conn.execute(
            text("SELECT relkind FROM pg_class WHERE relname = 'candidate_segments'")
        ).scalar()
        rows = dict(
            conn.execute(
                text(
                    "SELECT tableoid::regclass::text, count(*) FROM candidate_segments GROUP BY 1 ORDER BY 1"
                )
            ).all()
        )
        partitions = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'candidate_segments'::regclass AND c.relkind = 'r' ORDER BY 1"
            )
        ).scalars()
        keys = conn.execute(
            text(
                "SELECT contype, convalidated FROM pg_constraint"
                " WHERE conrelid = 'candidate_segments'::regclass ORDER BY conname"
            )
        ).all()
        index = conn.execute(
            text(
                "SELECT count(*) FROM pg_indexes"
                " WHERE indexname = 'ix_candidate_segments_segment_id_candidate_id'"
            )
        ).scalar()
    return {"kind": kind, "rows": rows, "partitions": list(partitions), "keys": keys, "index": index}


KEYS = [("f", True), ("f", True), ("f", True), ("p", True)]


@pytest.mark.postgres
def test_assignments_move_into_one_partition_per_version_and_back(empty_postgres_database, tmp_path):  # noqa: F811
    from flask_migrate import downgrade

    settings = Settings.from_env(
        {}, env="testing", database_url=empty_postgres_database, instance_path=str(tmp_path)
    )
    app = create_app(settings)
    with app.app_context():
        upgrade_database(revision="0032")
        seed_database(candidates=N, jobs=0, seed=3)
        first = segmentation.train_segmentation(**K).id
        second = segmentation.train_segmentation(**K).id
        before = _shape()
        assert before["kind"] == "r" and before["rows"] == {"candidate_segments": 2 * N}
        db.session.remove()

        upgrade_database(revision="0033")
        after = _shape()
        assert after["kind"] == "p"
        assert after["rows"] == {f"candidate_segments_m{first}": N, f"candidate_segments_m{second}": N}
        assert after["partitions"] == [
            "candidate_segments_default",
            f"candidate_segments_m{first}",
            f"candidate_segments_m{second}",
        ]
        assert after["keys"] == KEYS and after["index"] == 1

        # The bulk write now builds its version's table alone and attaches it; pruning drops tables.
        third = segmentation.train_segmentation(**K).id
        assert _shape()["rows"][f"candidate_segments_m{third}"] == N
        assert segmentation.prune_assignments(keep=1) == 2 * N
        pruned = _shape()
        assert pruned["partitions"] == ["candidate_segments_default", f"candidate_segments_m{third}"]
        assert pruned["keys"] == KEYS
        db.session.remove()

        downgrade(revision="0032")
        back = _shape()
        assert back["kind"] == "r" and back["rows"] == {"candidate_segments": N}
        assert back["partitions"] == [] and back["keys"] == KEYS and back["index"] == 1
        with db.engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM pg_class WHERE relname LIKE 'candidate\\_segments\\_%'")
            )
            assert left.scalar() == 0
        db.engine.dispose()


def test_sqlite_keeps_its_plain_table(tmp_path):
    from flask_migrate import downgrade

    url = f"sqlite:///{tmp_path / 's.db'}"
    app = create_app(Settings.from_env({}, env="testing", database_url=url, instance_path=str(tmp_path)))
    with app.app_context():
        upgrade_database(revision="0032")
        seed_database(candidates=N, jobs=0, seed=3)
        model_id = segmentation.train_segmentation(**K).id
        db.session.remove()
        upgrade_database(revision="0033")
        count = "SELECT count(*) FROM candidate_segments WHERE model_id = :m"
        with db.engine.connect() as conn:
            assert conn.execute(text(count), {"m": model_id}).scalar() == N
        downgrade(revision="0032")
        with db.engine.connect() as conn:
            assert conn.execute(text(count), {"m": model_id}).scalar() == N
        db.engine.dispose()
