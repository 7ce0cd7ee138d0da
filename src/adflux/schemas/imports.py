"""File-import schemas (shared by job and candidate imports)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from adflux.constants import IMPORT_FORMATS


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV, JSON, JSON lines or XML file"})


class ImportFormSchema(Schema):
    format = fields.Str(
        validate=validate.OneOf([*IMPORT_FORMATS, "ndjson"]), metadata={"description": "Overrides detection"}
    )


class ImportErrorSchema(Schema):
    line = fields.Int(metadata={"description": "Line number (CSV, JSON lines)"})
    record = fields.Int(metadata={"description": "Record number (JSON array, XML)"})
    external_ref = fields.Str(allow_none=True)
    reason = fields.Str(required=True)


class ImportReportSchema(Schema):
    created = fields.Int(required=True)
    updated = fields.Int(required=True)
    failed = fields.Int(required=True)
    errors = fields.List(fields.Nested(ImportErrorSchema), required=True)
    errors_truncated = fields.Bool(required=True)
