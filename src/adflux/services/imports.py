"""Import job openings and candidates from CSV, JSON (array or lines) and XML job feeds.

Idempotent by external_ref: a known reference updates its row, a new one creates a row. Every
bad row is reported with its line (or record) number and reason while the good rows are kept,
and everything is written in one transaction, so a file is either imported or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import insert, select, update

from adflux.constants import IMPORT_FORMATS
from adflux.extensions import db
from adflux.models import Candidate, JobOpening
from adflux.models.base import utcnow
from adflux.models.skills_text import skills_text
from adflux.schemas.candidates import CandidateSchema
from adflux.schemas.jobs import JobOpeningSchema
from adflux.services import audit
from adflux.services.errors import ValidationFailed

logger = logging.getLogger(__name__)

FORMATS = IMPORT_FORMATS
MAX_REPORTED_ERRORS = 1000
_LIST_FIELDS = {"skills", "languages"}
_TRUE = {"true", "1", "yes", "y", "si", "sí", "t", "on"}
_FALSE = {"false", "0", "no", "n", "f", "off"}

# Common XML job-feed tags (Indeed/Jooble style) mapped to AdFlux fields.
_XML_JOB_TAGS = {
    "referencenumber": "external_ref",
    "id": "external_ref",
    "external_ref": "external_ref",
    "title": "title",
    "company": "company",
    "city": "city",
    "state": "department",
    "department": "department",
    "country": "country",
    "description": "description",
    "url": "apply_url",
    "apply_url": "apply_url",
    "category": "category",
    "jobtype": "modality",
    "modality": "modality",
    "salary_min": "salary_min",
    "salary_max": "salary_max",
    "education": "education_required",
    "education_required": "education_required",
    "experience": "experience_years_min",
    "experience_years_min": "experience_years_min",
}


class InvalidFile(ValidationFailed):
    """The file is not what it claims to be (or not a format AdFlux reads)."""

    status = 400
    code = "invalid_file"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": self.errors,
            "errors_truncated": self.failed > len(self.errors),
        }


@dataclass(frozen=True)
class _Kind:
    model: type[Any]
    schema: Schema
    entity: str


_JOBS = _Kind(JobOpening, JobOpeningSchema(unknown=EXCLUDE), "job")
_CANDIDATES = _Kind(Candidate, CandidateSchema(unknown=EXCLUDE), "candidate")


Progress = Callable[[str, float], None]


def _no_progress(stage: str, percent: float) -> None:
    return None


def import_jobs(
    *, content: bytes, fmt: str | None = None, filename: str | None = None, progress: Progress = _no_progress
) -> ImportReport:
    """Import job openings from a file's bytes."""
    return _import(_JOBS, content=content, fmt=fmt, filename=filename, progress=progress)


def import_candidates(
    *, content: bytes, fmt: str | None = None, filename: str | None = None, progress: Progress = _no_progress
) -> ImportReport:
    """Import candidates from a file's bytes."""
    return _import(_CANDIDATES, content=content, fmt=fmt, filename=filename, progress=progress)


IMPORTERS: dict[str, Callable[..., ImportReport]] = {"jobs": import_jobs, "candidates": import_candidates}


def detect_format(content: bytes, fmt: str | None, filename: str | None) -> str:
    """The declared format, else the file extension, else a look at the first byte."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt == "ndjson":
            fmt = "jsonl"
        if fmt not in FORMATS:
            raise InvalidFile(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        if ext in FORMATS or ext == "ndjson":
            return "jsonl" if ext == "ndjson" else ext
    head = content.lstrip()[:1]
    return {b"[": "json", b"{": "jsonl", b"<": "xml"}.get(head, "csv")


def _import(
    kind: _Kind, *, content: bytes, fmt: str | None, filename: str | None, progress: Progress
) -> ImportReport:
    fmt = detect_format(content, fmt, filename)
    text = _decode(content)
    progress("parse", 5)
    records = list(_parse(text, fmt))  # parse the whole file first: a broken file writes nothing
    report = ImportReport()
    valid: dict[str, dict[str, Any]] = {}
    step = max(1, len(records) // 20)
    for number, (where, raw) in enumerate(records):
        if number % step == 0:
            progress("validate", 10 + 70 * number / max(1, len(records)))
        if not isinstance(raw, dict):
            _fail(report, where, None, raw if isinstance(raw, str) else "not an object")
            continue
        ref = str(raw.get("external_ref") or "").strip()
        if not ref:
            _fail(report, where, None, "external_ref is required for imports")
            continue
        if _has_nul(raw):  # PostgreSQL text cannot hold NUL: refuse the row, not the database
            _fail(report, where, ref.replace("\x00", ""), "NUL characters are not allowed")
            continue
        try:
            data = kind.schema.load(_clean(raw))
        except ValidationError as exc:
            _fail(report, where, ref, _flatten(exc.messages))
            continue
        if ref in valid:
            _fail(report, where, ref, f"duplicate external_ref {ref!r} in the same file (first one kept)")
            continue
        valid[ref] = data
    progress("write", 80)
    _write(kind, valid, report)
    return report


def _write(kind: _Kind, rows: dict[str, dict[str, Any]], report: ImportReport) -> None:
    model = kind.model
    existing: dict[str, int] = {}
    refs = list(rows)
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        rows_found = db.session.execute(
            select(model.external_ref, model.id).where(model.external_ref.in_(chunk))
        )
        existing.update((ref, id_) for ref, id_ in rows_found)
    now = utcnow()
    to_insert = [
        {**data, "created_at": now, "updated_at": now} for ref, data in rows.items() if ref not in existing
    ]
    to_update = [
        {**data, "id": existing[ref], "updated_at": now} for ref, data in rows.items() if ref in existing
    ]
    if kind is _JOBS:
        for row in to_insert:
            row.setdefault("status", "open")
    elif kind is _CANDIDATES:  # bulk statements skip the ORM events: keep skills_text in step here
        for row in (*to_insert, *to_update):
            if "skills" in row:
                row["skills_text"] = skills_text(row["skills"])
    try:
        if to_insert:
            db.session.execute(insert(model), to_insert)
        if to_update:
            db.session.execute(update(model), to_update)
        audit.record(
            f"{kind.entity}.import",
            entity_type=kind.entity,
            after={"created": len(to_insert), "updated": len(to_update), "failed": report.failed},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    report.created, report.updated = len(to_insert), len(to_update)
    logger.info(
        "Imported %ss: %d created, %d updated, %d failed",
        kind.entity,
        report.created,
        report.updated,
        report.failed,
    )


def _decode(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise InvalidFile("The file is binary, not text (CSV, JSON or XML expected)")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidFile("The file is not UTF-8 text") from None


def _parse(text: str, fmt: str) -> Iterator[tuple[tuple[str, int], Any]]:
    if fmt == "csv":
        yield from _parse_csv(text)
    elif fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidFile(f"The file is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            raise InvalidFile('A JSON import must be an array of objects (or {"items": [...]})')
        for index, item in enumerate(data, start=1):
            yield ("record", index), item
    elif fmt == "jsonl":
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield ("line", lineno), json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidFile(f"Line {lineno} is not valid JSON: {exc.msg}") from None
    else:
        yield from _parse_xml(text)


def _parse_csv(text: str) -> Iterator[tuple[tuple[str, int], Any]]:
    try:
        dialect: type[csv.Dialect] = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames or "external_ref" not in [f.strip() for f in reader.fieldnames]:
        raise InvalidFile("The CSV file has no header row with an external_ref column")
    try:
        for row in reader:
            if None in row:
                yield ("line", reader.line_num), "too many columns"
                continue
            yield ("line", reader.line_num), {k.strip(): v for k, v in row.items() if k}
    except csv.Error as exc:
        raise InvalidFile(f"The file is not valid CSV: {exc}") from None


def _parse_xml(text: str) -> Iterator[tuple[tuple[str, int], Any]]:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InvalidFile("XML files with a DOCTYPE or entities are not accepted")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidFile(f"The file is not valid XML: {exc}") from None
    items = [el for el in root.iter() if el.tag.lower() in ("job", "candidate", "item")]
    if not items:
        raise InvalidFile("The XML file has no <job> (or <candidate>) elements")
    for index, element in enumerate(items, start=1):
        record: dict[str, Any] = {}
        for child in element:
            tag = child.tag.lower()
            value = "".join(child.itertext()).strip()
            record[_XML_JOB_TAGS.get(tag, tag)] = value
        yield ("record", index), record


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    """Normalise text-file values: blanks are missing, lists may be ';'-separated, yes/no booleans."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
            if key in _LIST_FIELDS:
                value = [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]
            elif key == "marketing_consent" and value.lower() in _TRUE | _FALSE:
                value = value.lower() in _TRUE
        out[key] = value
    return out


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            text = _flatten(value)
            parts.append(text if key == "_schema" else f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(messages, list):
        return " ".join(_flatten(m) for m in messages)
    return str(messages)


def _fail(report: ImportReport, where: tuple[str, int], ref: str | None, reason: str) -> None:
    report.failed += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append({where[0]: where[1], "external_ref": ref, "reason": reason})
