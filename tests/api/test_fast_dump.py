"""FastDumpSchema gives exactly what marshmallow's own dump gives, or uses marshmallow's dump."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from adflux.schemas.common import FastDumpSchema
from adflux.schemas.jobs import JobOpeningSchema, JobPageSchema
from factories import make_candidate, make_job, slow_dump


def _slow(schema: Schema, obj: Any, many: bool | None = None) -> Any:
    return Schema.dump(schema, obj, many=many)


class _Label(str):
    def __str__(self) -> str:
        return f"label:{super().__str__()}"


class Flat(FastDumpSchema):
    id = fields.Int()
    title = fields.Str(allow_none=True)
    link = fields.Url(attribute="url", data_key="href")
    email = fields.Email(dump_default="nobody@example.co")
    count = fields.Int(dump_default=lambda: 7)
    when = fields.DateTime(allow_none=True)
    seen = fields.AwareDateTime(allow_none=True, default_timezone=dt.UTC)
    agreed = fields.Bool(allow_none=True)
    day = fields.Date(allow_none=True)
    secret = fields.Str(load_only=True)


values = {
    "id": st.one_of(st.integers(-(2**40), 2**40), st.booleans(), st.floats(-1e6, 1e6, allow_nan=False)),
    "title": st.one_of(st.none(), st.text(max_size=20), st.text(max_size=5).map(str.encode)),
    "url": st.text(max_size=10).map(lambda t: "https://x.co/" + t),
    "email": st.just("a@b.co"),
    "count": st.integers(0, 10),
    "when": st.one_of(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
    "seen": st.one_of(st.none(), st.datetimes(), st.datetimes(timezones=st.just(dt.UTC))),
    "agreed": st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["yes", "no", ""])),
    "day": st.one_of(st.none(), st.dates(), st.datetimes()),
    "secret": st.text(max_size=5),
}


@st.composite
def objects(draw: st.DrawFn) -> SimpleNamespace:
    present = draw(st.sets(st.sampled_from(sorted(values))))
    obj = SimpleNamespace(**{name: draw(values[name]) for name in present if name in values})
    if draw(st.booleans()) and isinstance(getattr(obj, "title", None), str):
        obj.title = _Label(obj.title)
    return obj


@settings(max_examples=300, deadline=None)
@given(st.lists(objects(), max_size=5))
def test_flat_objects_dump_the_same_either_way(items):
    schema = Flat()
    expected = _slow(schema, items, many=True)
    assert schema.dump(items, many=True) == expected
    assert [list(d) for d in schema.dump(items, many=True)] == [list(d) for d in expected]
    for item in items:
        assert schema.dump(item) == _slow(schema, item)


@settings(max_examples=300, deadline=None)
@given(st.lists(objects(), max_size=5))
def test_plain_dicts_dump_the_same_either_way(items):
    schema = Flat()
    rows = [dict(vars(item)) for item in items]
    expected = _slow(schema, rows, many=True)
    assert schema.dump(rows, many=True) == expected
    assert [list(d) for d in schema.dump(rows, many=True)] == [list(d) for d in expected]
    for row in rows:
        assert schema.dump(row) == _slow(schema, row)


def test_job_openings_dump_the_same_either_way(app):
    with app.app_context():
        jobs = [make_job(), make_job(salary_min=None, salary_max=None, education_required=None)]
        page = {"items": jobs, "total": 2, "page": 1, "page_size": 20, "pages": 1}
        fast = JobPageSchema().dump(page)
        schema = JobOpeningSchema()
        assert fast["items"] == [_slow(schema, job) for job in jobs]
        assert schema._build_fast_plan() is not None  # the fast path is taken
        assert list(fast["items"][0]) == list(_slow(schema, jobs[0]))


def test_candidates_dump_the_same_either_way(app):
    from adflux.schemas.candidates import CandidatePageSchema, CandidateSchema
    from adflux.services import candidates as candidates_service

    with app.app_context():
        make_candidate(marketing_consent=True, last_active_at=dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC))
        make_candidate(skills=[], languages=["es", "en"], marketing_consent=False)
        page = candidates_service.list_candidates()
        fast = CandidatePageSchema().dump(page.as_dict())
        schema = CandidateSchema()
        assert fast["items"] == [_slow(schema, c) for c in page.items]
        assert [list(item) for item in fast["items"]] == [list(_slow(schema, c)) for c in page.items]
        assert {item["marketing_consent"] for item in fast["items"]} == {True, False}
        assert "email" not in fast["items"][0]  # write-only PII stays out
        assert schema._build_fast_plan() is not None  # the fast path is taken


def test_mappings_and_unsupported_schemas_use_marshmallow():
    row = {"id": "3", "title": "x", "url": "https://x.co", "secret": "s"}
    assert Flat().dump(row) == _slow(Flat(), row)

    class WithTypedDict(FastDumpSchema):
        id = fields.Int()
        extra = fields.Dict(keys=fields.Str(), values=fields.Raw())  # (values=Int: fast since H25p)

    class WithHook(FastDumpSchema):
        id = fields.Int()

        @post_dump
        def _mark(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {**data, "hooked": True}

    class Dotted(FastDumpSchema):
        city = fields.Str(attribute="job.city")

    obj = SimpleNamespace(id=1, extra={"a": 1})
    assert WithTypedDict().dump(obj) == {"id": 1, "extra": {"a": 1}}
    assert WithTypedDict()._build_fast_plan() is None
    assert Dotted()._build_fast_plan() is None
    assert Dotted().dump({"job": {"city": "Cali"}}) == {"city": "Cali"}
    assert WithHook().dump(obj) == {"id": 1, "hooked": True}


def test_only_and_exclude_are_respected():
    obj = SimpleNamespace(id=1, title="t", url="https://x.co", when=None, day=None)
    for schema in (Flat(only=("id", "title")), Flat(exclude=("when", "email"))):
        assert schema.dump(obj) == _slow(schema, obj)


def test_campaigns_with_nested_platform_campaigns_dump_the_same_either_way(app):
    from adflux.schemas.campaigns import CampaignSchema, CampaignSummarySchema
    from adflux.services import campaigns as campaigns_service

    with app.app_context():
        job = make_job()
        created = campaigns_service.create_campaign(
            job_id=job.id, platforms=["meta", "google", "tiktok"], budget_total=3_000_000, name="Prueba"
        )
        campaign = campaigns_service.get_campaign(campaign_id=created.id)
        campaign.platform_campaigns[0].last_error = "límite"
        campaign.platform_campaigns[0].external_ids = {"campaign": "120"}
        listed = campaigns_service.list_campaigns().items
        for schema, obj in ((CampaignSummarySchema(), listed[0]), (CampaignSchema(), campaign)):
            fast = schema.dump(obj)
            assert fast == slow_dump(type(schema)(), obj)
            assert fast["platform_campaigns"] and "ad_groups" in fast["platform_campaigns"][0]
        assert CampaignSummarySchema()._fast_plan_or_none() is not None  # the list takes the fast path


def test_a_campaign_series_keyed_by_platform_dumps_the_same_either_way():
    """Dict(keys=Str, values=List(Nested)) and Dict(keys=Str, values=Nested): the daily API's year."""
    from adflux.schemas.reports import CampaignSeriesSchema

    point = {"impressions": 10, "reach": 8, "engagements": None, "clicks": 2, "spend_micros": 1_500_000,
             "spend": 1.5, "applications": 1, "ctr": 0.2, "cpc": 0.75, "cpa": None}  # fmt: skip
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(3)]
    series = {
        "campaign_id": 7,
        "since": days[0],
        "until": days[-1],
        "series": {
            "meta": [{**point, "date": d} for d in days],
            "google": [],
            _Label("x"): [point | {"date": days[0]}],
        },
        "totals": {"meta": point, "google": {**point, "engagements": 3}},
    }
    schema = CampaignSeriesSchema()
    assert schema._build_fast_plan() is not None  # the fast path is taken
    expected = slow_dump(schema, series)
    assert schema.dump(series) == expected
    assert list(schema.dump(series)["series"]) == list(expected["series"])
    assert list(schema.dump(series)["series"]["meta"][0]) == list(expected["series"]["meta"][0])
