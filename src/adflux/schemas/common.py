"""Schemas shared by every resource: pagination and the error body."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing, validate, validates_schema
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from werkzeug.exceptions import BadRequest

from adflux.catalogue import gettext as _

_Converter = Callable[[Any], Any]


def _plain_str(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _plain_int(value: Any) -> Any:
    return None if value is None else int(value)


def _iso_datetime(value: Any) -> Any:
    return None if value is None else dt.datetime.isoformat(value)


def _iso_date(value: Any) -> Any:
    return None if value is None else dt.date.isoformat(value)


def _converter(field: fields.Field) -> _Converter | None:
    """How a field serialises a value, for the field types whose rules are this simple.

    Exact types only (a subclass may serialise otherwise); `type(field) is X` also tells mypy
    which field it is.
    """
    if type(field) in (fields.Str, fields.Url, fields.Email):
        return _plain_str
    if type(field) is fields.Int and not field.as_string:
        return _plain_int
    if type(field) is fields.DateTime and field.format in (None, "iso", "iso8601"):
        return _iso_datetime
    # AwareDateTime differs from DateTime only when it loads (a default zone for naive input).
    if type(field) is fields.AwareDateTime and field.format in (None, "iso", "iso8601"):
        return _iso_datetime
    if type(field) is fields.Boolean:  # marshmallow dumps a Boolean's value as it is
        return _as_is
    if type(field) is fields.Date and field.format in (None, "iso", "iso8601"):
        return _iso_date
    if type(field) is fields.Float and not field.as_string:
        return _plain_float
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        return _plain_dict
    if type(field) is fields.Dict:  # keys as they are or as Str; each value as its own field
        return _mapping_converter(field.key_field, field.value_field)
    if type(field) is fields.Nested and not getattr(field, "many", False):
        return _nested_converter(field.schema, many=False)
    if type(field) is fields.List:
        inner = field.inner
        if type(inner) is fields.Nested and not getattr(inner, "many", False):
            return _nested_converter(inner.schema, many=True)
        if type(inner) is fields.Str:
            return _plain_str_list
    return None


def _as_is(value: Any) -> Any:
    return value


def _plain_float(value: Any) -> Any:
    return None if value is None else float(value)


def _plain_str_list(value: Any) -> Any:
    return None if value is None else [_plain_str(item) for item in value]


def _plain_dict(value: Any) -> Any:
    return None if value is None else dict(value)


def _mapping_converter(key_field: fields.Field | None, value_field: fields.Field | None) -> _Converter | None:
    """A Dict whose keys are Str (or as they are) and whose values a field of the above converts."""
    if key_field is not None and type(key_field) is not fields.Str:
        return None
    convert_key = _as_is if key_field is None else _plain_str
    convert = _as_is if value_field is None else _converter(value_field)
    if convert is None:
        return None
    return lambda value: None if value is None else {convert_key(k): convert(v) for k, v in value.items()}


def _nested_converter(schema: Schema, *, many: bool) -> _Converter | None:
    """Nested FastDumpSchemas with a fast plan of their own (nested ORM rows, say)."""
    if not isinstance(schema, FastDumpSchema) or schema.many or schema._fast_plan_or_none() is None:
        return None
    if many:
        return lambda value: None if value is None else schema.dump(list(value), many=True)
    return lambda value: None if value is None else schema.dump(value, many=False)


class FastDumpSchema(Schema):
    """A Schema whose `dump` of plain objects and dicts skips marshmallow's per-field machinery.

    For schemas made only of Str/Url/Email, Int, Float, Bool, plain Dict, ISO DateTime/Date fields,
    List(Str) and Nested/List(Nested) of other such schemas, with no dump hooks,
    `dump` reads each attribute and converts it exactly as those fields would (same keys, same
    order, same values, `dump_default` for missing attributes) at a fraction of the cost; this
    is what makes a 20-row list cheap. Any other schema, or another mapping (a Row, say) passed
    in, takes marshmallow's own path. tests/api/test_fast_dump.py holds both paths to equal output.
    """

    _fast_plan: list[tuple[str, str, _Converter, Any]] | None

    def _fast_plan_or_none(self) -> list[tuple[str, str, _Converter, Any]] | None:
        plan = self.__dict__.get("_fast_plan", missing)
        if plan is missing:
            plan = self._fast_plan = self._build_fast_plan()
        return plan

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        plan = self._fast_plan_or_none()
        many = self.many if many is None else bool(many)
        if plan is None or obj is None:
            return super().dump(obj, many=many)
        if many:
            if any(_other_mapping(o) for o in obj):
                return super().dump(obj, many=many)
            return [self._fast_row(o, plan) for o in obj]
        if _other_mapping(obj):
            return super().dump(obj, many=many)
        return self._fast_row(obj, plan)

    @staticmethod
    def _fast_row(obj: Any, plan: list[tuple[str, str, _Converter, Any]]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        # A loaded ORM instance keeps its column values in __dict__: read them there, past the
        # instrumented descriptors; anything not there (a property, a deferred or expired
        # attribute) goes through getattr as before. A plain dict is read by key, then (as
        # marshmallow does for a missing key) by attribute.
        loaded = obj if type(obj) is dict else getattr(obj, "__dict__", None) or {}
        for attribute, key, convert, default in plan:
            value = loaded.get(attribute, missing)
            if value is missing:
                value = getattr(obj, attribute, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            row[key] = convert(value)
        return row

    def _build_fast_plan(self) -> list[tuple[str, str, _Converter, Any]] | None:
        if self._hooks[PRE_DUMP] or self._hooks[POST_DUMP] or self.dict_class is not dict:
            return None
        plan = []
        for name, field in self.dump_fields.items():
            convert = _converter(field)
            if convert is None:
                return None
            key = field.data_key if field.data_key is not None else name
            attribute = field.attribute or name
            if "." in attribute:  # a dotted path: marshmallow walks it
                return None
            plan.append((attribute, key, convert, field.dump_default))
        return plan


def _other_mapping(obj: Any) -> bool:
    """Indexable but not a plain dict (a Row, a custom mapping): marshmallow reads those."""
    return type(obj) is not dict and hasattr(obj, "__getitem__")


class PageArgsSchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=200))


# Lists that page by cursor answer page numbers only this deep (page × page_size, in rows).
MAX_PAGE_ROWS = 10_000


class CursorArgsSchema(PageArgsSchema):
    """Large lists also page by keyset: pass the previous page's next_cursor (page is then ignored).

    Page numbers reach the first 10,000 rows (page × page_size ≤ 10,000): a deeper page number
    is answered 400, pointing to next_cursor, since OFFSET reads and skips every row before it.
    """

    cursor = fields.Str(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "next_cursor of the previous page: fast at any depth"},
    )

    @validates_schema
    def _shallow_pages_only(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("cursor") or data["page"] * data["page_size"] <= MAX_PAGE_ROWS:
            return
        raise BadRequest(
            _(
                "Page numbers reach the first %(rows)s rows; go further with next_cursor, passed as cursor",
                rows=MAX_PAGE_ROWS,
            )
        )


class PageMetaSchema(Schema):
    total = fields.Int(required=True)
    total_estimated = fields.Bool(required=True)
    page = fields.Int(required=True, allow_none=True)
    page_size = fields.Int(required=True)
    pages = fields.Int(required=True)
    next_cursor = fields.Str(required=True, allow_none=True)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A paginated envelope around `item_schema`: items, total (exact up to 10,000 rows, else the
    planner's estimate: total_estimated), page (null when paged by cursor), page_size, pages and
    next_cursor (lists that page by keyset; null at the end)."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Int(required=True),
            "total_estimated": fields.Bool(required=True),
            "page": fields.Int(required=True, allow_none=True),
            "page_size": fields.Int(required=True),
            "pages": fields.Int(required=True),
            "next_cursor": fields.Str(required=True, allow_none=True),
        },
        name=name,
    )


class ApiErrorSchema(Schema):
    code = fields.Str(required=True)
    message = fields.Str(required=True)
    errors = fields.Raw()


class TaskAcceptedSchema(Schema):
    task_id = fields.Str(required=True)
    status = fields.Str(required=True)
    status_url = fields.Str(required=True)
