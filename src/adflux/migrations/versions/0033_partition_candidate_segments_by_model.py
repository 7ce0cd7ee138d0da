"""partition candidate_segments by model version (PostgreSQL)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 06:00:00

candidate_segments becomes `PARTITION BY LIST (model_id)`: one partition per version that has
rows (candidate_segments_m<id>) and a DEFAULT partition for versions without one. A training's
bulk write then builds its version's table alone and attaches it, the foreign keys checked on its
rows only, and pruning drops a version's table (services/assignment_partitions.py). The rows are
copied one version at a time into tables without keys; the primary key, the index and the three
foreign keys are added to the parent at the end (each built or checked once per partition).
SQLite keeps one plain table (nothing to do).
"""

from alembic import op
from sqlalchemy import text

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

TABLE = "candidate_segments"
COLUMNS = "model_id integer NOT NULL, candidate_id bigint NOT NULL, segment_id integer NOT NULL"
INDEX = "ix_candidate_segments_segment_id_candidate_id"
KEYS = (
    "ADD CONSTRAINT pk_candidate_segments PRIMARY KEY (model_id, candidate_id)",
    "ADD CONSTRAINT fk_candidate_segments_candidate_id_candidates FOREIGN KEY (candidate_id)"
    " REFERENCES candidates (id) ON DELETE CASCADE",
    "ADD CONSTRAINT fk_candidate_segments_model_id_segmentation_models FOREIGN KEY (model_id)"
    " REFERENCES segmentation_models (id) ON DELETE CASCADE",
    "ADD CONSTRAINT fk_candidate_segments_segment_id_segments FOREIGN KEY (segment_id)"
    " REFERENCES segments (id) ON DELETE CASCADE",
)


def _set_aside() -> None:
    """The current table under another name, its index-backed names freed."""
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old")
    op.execute(f"ALTER TABLE {TABLE}_old RENAME CONSTRAINT pk_candidate_segments TO pk_{TABLE}_old")
    op.execute(f"ALTER INDEX {INDEX} RENAME TO ix_{TABLE}_old_segment_id_candidate_id")


def _finish() -> None:
    """Keys and index on the new table (per partition when partitioned), the old one dropped."""
    op.execute(f"DROP TABLE {TABLE}_old")
    op.execute(f"ALTER TABLE {TABLE} {KEYS[0]}")
    op.execute(f"CREATE INDEX {INDEX} ON {TABLE} (segment_id, candidate_id)")
    op.execute(f"ALTER TABLE {TABLE} {', '.join(KEYS[1:])}")
    op.execute(f"ANALYZE {TABLE}")


def _is_partitioned() -> bool:
    kind = op.get_bind().execute(text(f"SELECT relkind FROM pg_class WHERE oid = '{TABLE}'::regclass")).scalar()
    return kind == "p"


def upgrade():
    if op.get_bind().dialect.name != "postgresql" or _is_partitioned():
        return
    _set_aside()
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS}) PARTITION BY LIST (model_id)")
    op.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    versions = op.get_bind().execute(
        text(f"SELECT m.id FROM segmentation_models m WHERE EXISTS (SELECT 1 FROM {TABLE}_old s WHERE s.model_id = m.id) ORDER BY m.id")  # fmt: skip
    )
    for (model_id,) in versions.all():
        model_id = int(model_id)
        op.execute(f"CREATE TABLE {TABLE}_m{model_id} PARTITION OF {TABLE} FOR VALUES IN ({model_id})")
        op.execute(
            f"INSERT INTO {TABLE}_m{model_id} (model_id, candidate_id, segment_id)"
            f" SELECT model_id, candidate_id, segment_id FROM {TABLE}_old WHERE model_id = {model_id}"
        )
    _finish()


def downgrade():
    if op.get_bind().dialect.name != "postgresql" or not _is_partitioned():
        return
    _set_aside()
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS})")
    op.execute(
        f"INSERT INTO {TABLE} (model_id, candidate_id, segment_id)"
        f" SELECT model_id, candidate_id, segment_id FROM {TABLE}_old"
    )
    _finish()  # dropping the partitioned table drops its partitions
