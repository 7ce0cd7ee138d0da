"""segmentation_models.artifact_uri relative to the model store (data fix, no schema change)

Versions trained before stored the absolute `file://` URI of their artifact; moving the model store
(ADFLUX_MODEL_STORE) or restoring a backup elsewhere orphaned them. The store now records the
artifact's file name only; this rewrites existing local URIs to that name. Remote URIs (s3://...)
are left alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 15:40:00

"""
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_ARTIFACT_NAME = re.compile(r"^segmentation-v\d{5,}-[0-9a-f]{12}\.skops$")
_models = sa.table(
    'segmentation_models', sa.column('id', sa.Integer()), sa.column('artifact_uri', sa.String(500))
)


def _portable(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme not in ('', 'file'):
        return uri
    name = PurePosixPath(unquote(parsed.path) if parsed.scheme == 'file' else uri).name
    return name if _ARTIFACT_NAME.match(name) else uri


def upgrade():
    conn = op.get_bind()
    for row_id, uri in conn.execute(sa.select(_models.c.id, _models.c.artifact_uri)).all():
        portable = _portable(uri or '')
        if uri and portable != uri:
            conn.execute(_models.update().where(_models.c.id == row_id).values(artifact_uri=portable))


def downgrade():
    # Nothing to undo: the store still reads absolute file:// URIs by their file name, and the
    # folder the old URIs pointed at is not known here.
    pass
