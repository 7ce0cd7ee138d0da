"""A small GAQL parser: SELECT fields FROM resource WHERE conditions [ORDER BY ...] [LIMIT n]."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adflux.sandbox.definitions import gaql_unknown
from adflux.sandbox.http import ApiError

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<select>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"^(?P<field>[\w.]+)\s+(?P<op>=|!=|>=|<=|>|<|IN|NOT IN|LIKE|NOT LIKE|BETWEEN|DURING)\s+(?P<value>.+)$",
    re.IGNORECASE | re.DOTALL,
)
DURING = {"YESTERDAY": 1, "LAST_7_DAYS": 7, "LAST_14_DAYS": 14, "LAST_30_DAYS": 30, "LAST_90_DAYS": 90}


def _invalid(message: str) -> ApiError:
    return ApiError("validation", message, extra={"error_code": {"queryError": "UNRECOGNIZED_FIELD"}})


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", text[1:-1])  # GAQL escapes quotes with a backslash
    try:
        return int(text)
    except ValueError:
        return text  # enums are bare words


@dataclass
class Condition:
    field: str
    op: str
    value: Any
    texts: frozenset[str] = frozenset()  # an IN list's values as text, built once per query

    def __post_init__(self) -> None:
        if self.op in ("IN", "NOT IN"):
            self.texts = frozenset(str(item) for item in self.value)


@dataclass
class Query:
    select: list[str]
    resource: str
    conditions: list[Condition] = field(default_factory=list)
    limit: int | None = None

    def date_range(self, today: date) -> tuple[date, date] | None:
        for cond in self.conditions:
            if cond.field != "segments.date":
                continue
            if cond.op == "BETWEEN":
                return date.fromisoformat(cond.value[0]), date.fromisoformat(cond.value[1])
            if cond.op == "DURING":
                days = DURING.get(str(cond.value).upper())
                if days is None:
                    raise _invalid(f"Unsupported DURING value {cond.value}")
                return today - timedelta(days=days), today - timedelta(days=1)
            if cond.op == "=":
                day = date.fromisoformat(cond.value)
                return day, day
        return None

    def matches(self, row: dict[str, Any]) -> bool:
        for cond in self.conditions:
            if cond.op in ("BETWEEN", "DURING") or cond.field == "segments.date":
                continue  # applied when generating rows
            value = row.get(cond.field)
            wanted = cond.value
            text = str(value) if value is not None else None
            if cond.op == "=" and text != str(wanted):
                return False
            if cond.op == "!=" and text == str(wanted):
                return False
            if cond.op == "IN" and text not in cond.texts:
                return False
            if cond.op == "NOT IN" and text in cond.texts:
                return False
            if cond.op in ("LIKE", "NOT LIKE"):
                pattern = "^" + re.escape(str(wanted)).replace("%", ".*").replace("_", ".") + "$"
                found = bool(re.match(pattern, text or "", re.DOTALL))
                if found != (cond.op == "LIKE"):
                    return False
        return True


def parse(text: str) -> Query:
    """Parse one GAQL query (raises a validation ApiError on anything unsupported)."""
    found = _QUERY.match(text)
    if not found:
        raise _invalid("Error in query: unexpected input.")
    select = [item.strip() for item in found["select"].split(",") if item.strip()]
    query = Query(select=select, resource=found["resource"].lower())
    if found["limit"]:
        query.limit = int(found["limit"])
    if found["where"]:
        query.conditions = [_condition(part) for part in _split_and(found["where"])]
    unknown = gaql_unknown(query.select + [cond.field for cond in query.conditions])
    if unknown:
        # As Google answers: a QueryError naming the field the API does not define.
        raise ApiError(
            "validation",
            f"Error in SELECT clause: unrecognized field '{unknown[0]}'.",
            extra={"error_code": {"queryError": "UNRECOGNIZED_FIELD"}},
        )
    return query


def _split_and(where: str) -> list[str]:
    """Split on AND outside quotes, keeping ``BETWEEN x AND y`` together."""
    tokens = re.findall(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\([^)]*\)|\S+", where)
    parts: list[list[str]] = [[]]
    for token in tokens:
        current = parts[-1]
        if token.upper() == "AND" and not (len(current) >= 3 and current[-2].upper() == "BETWEEN"):
            parts.append([])
        else:
            current.append(token)
    return [" ".join(part) for part in parts if part]


def _condition(part: str) -> Condition:
    found = _CONDITION.match(part.strip())
    if not found:
        raise _invalid(f"Error in query: cannot parse condition {part!r}.")
    op = " ".join(found["op"].upper().split())
    value: Any = found["value"].strip()
    if op in ("IN", "NOT IN"):
        value = [_literal(item) for item in value.strip("() ").split(",") if item.strip()]
    elif op == "BETWEEN":
        value = [_literal(item) for item in re.split(r"\s+AND\s+", value, flags=re.I)]
    else:
        value = _literal(value)
    return Condition(found["field"], op, value)
