"""Reading a feed file record by record (never whole in memory) into job-opening fields.

Feeds come in the shapes job boards use: XML (`<source><job>…</job></source>`), a JSON array
(or `{"jobs": [...]}`), JSON lines or CSV. Each record is mapped to AdFlux's fields (a feed may
name them differently: the feed's mapping), its values normalised (category labels to codes,
"Bogotá" to "Bogotá D.C.", "$2.500.000 - $3.000.000" to a salary range, an expiry date) and
fingerprinted, so an opening the feed did not change costs a hash and nothing more.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from adflux.services.errors import ValidationFailed
from adflux.services.feeds.fields import FeedRecord, normalise

FEED_FORMATS: tuple[str, ...] = ("xml", "json", "jsonl", "csv")


class FeedFormatError(ValidationFailed):
    """The feed file cannot be read at all (it names where): the run fails and changes nothing."""

    status = 400
    code = "invalid_feed"


def read_records(path: Path, fmt: str, mapping: dict[str, str]) -> Iterator[FeedRecord]:
    """Every record of the feed file, mapped and normalised, in the file's order."""
    raw: Iterator[tuple[tuple[str, int], Any]]
    if fmt == "xml":
        raw = _xml_records(path)
    elif fmt == "json":
        raw = _json_records(path)
    elif fmt == "jsonl":
        raw = _jsonl_records(path)
    elif fmt == "csv":
        raw = _csv_records(path)
    else:
        raise FeedFormatError(f"Unknown feed format {fmt!r}; use one of {', '.join(FEED_FORMATS)}")
    for where, item in raw:
        if not isinstance(item, dict):
            yield FeedRecord(where, None, {}, error=str(item) if isinstance(item, str) else "not an object")
            continue
        yield normalise(where, item, mapping)


# -- formats ------------------------------------------------------------------------------------


def _xml_records(path: Path) -> Iterator[tuple[tuple[str, int], Any]]:
    with path.open("rb") as head:
        prolog = head.read(8192)
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise FeedFormatError("XML feeds with a DOCTYPE or entities are not accepted")
    index = 0
    try:
        for _, element in ET.iterparse(str(path), events=("end",)):
            if element.tag.lower() not in ("job", "item", "oferta"):
                continue
            index += 1
            record = {child.tag.lower(): "".join(child.itertext()).strip() for child in element}
            element.clear()
            yield ("record", index), record
    except ET.ParseError as exc:
        raise FeedFormatError(f"The XML feed is broken after record {index}: {exc}") from None
    if index == 0:
        raise FeedFormatError("The XML feed has no <job> elements")


def _json_records(path: Path) -> Iterator[tuple[tuple[str, int], Any]]:
    prefix = _json_prefix(path)
    index = 0
    try:
        with path.open("rb") as handle:
            for index, item in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
                yield ("record", index), item
    except ijson.JSONError as exc:
        raise FeedFormatError(f"The JSON feed is broken after record {index}: {exc}") from None


def _json_prefix(path: Path) -> str:
    """Where the openings are: the top-level array, or the array under "jobs" / "items"."""
    try:
        with path.open("rb") as handle:
            for prefix, event, value in ijson.parse(handle):
                if prefix == "" and event == "start_array":
                    return "item"
                if prefix == "" and event == "map_key" and value in ("jobs", "items", "ofertas"):
                    return f"{value}.item"
    except ijson.JSONError as exc:
        raise FeedFormatError(f"The file is not valid JSON: {exc}") from None
    raise FeedFormatError('A JSON feed must be an array of openings (or {"jobs": [...]})')


def _jsonl_records(path: Path) -> Iterator[tuple[tuple[str, int], Any]]:
    with path.open(encoding="utf-8-sig") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield ("line", lineno), json.loads(line)
            except json.JSONDecodeError as exc:
                yield ("line", lineno), f"not valid JSON: {exc.msg}"


def _csv_records(path: Path) -> Iterator[tuple[tuple[str, int], Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect: type[csv.Dialect] = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        if not reader.fieldnames:
            raise FeedFormatError("The CSV feed has no header row")
        try:
            for row in reader:
                if None in row:
                    yield ("line", reader.line_num), "too many columns"
                    continue
                yield ("line", reader.line_num), {k.strip().lower(): v for k, v in row.items() if k}
        except csv.Error as exc:
            raise FeedFormatError(f"The CSV feed is broken at line {reader.line_num}: {exc}") from None
