"""Importing job openings and candidates from files."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import AuditEvent, Candidate, JobOpening
from adflux.services.imports import InvalidFile, import_candidates, import_jobs
from factories import job_data

JOB_FIELDS = list(job_data())


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=JOB_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_csv_import_reports_bad_rows_with_line_numbers_and_keeps_good_ones(app_ctx):
    rows = [job_data(), job_data(category="astronauta"), job_data(), job_data(apply_url="not a url")]
    report = import_jobs(content=_csv(rows), filename="jobs.csv")
    assert (report.created, report.updated, report.failed) == (2, 0, 2)
    assert [e["line"] for e in report.errors] == [3, 5]
    assert "category" in report.errors[0]["reason"]
    assert _count(JobOpening) == 2


def test_reimport_updates_instead_of_duplicating(app_ctx):
    rows = [job_data(external_ref="R-1", title="Cajero"), job_data(external_ref="R-2")]
    import_jobs(content=json.dumps(rows).encode(), fmt="json")
    rows[0]["title"] = "Cajero principal"
    report = import_jobs(content=json.dumps(rows).encode(), fmt="json")
    assert (report.created, report.updated) == (0, 2)
    assert _count(JobOpening) == 2
    assert (
        db.session.scalar(select(JobOpening.title).where(JobOpening.external_ref == "R-1"))
        == "Cajero principal"
    )


def test_xml_feed_with_common_tags(app_ctx):
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
    <source><publisher>Portal</publisher>
      <job><referencenumber>XML-1</referencenumber><title>Auxiliar de bodega</title>
        <company>Log\xc3\xadstica SAS</company><city>Barranquilla</city><state>Atl\xc3\xa1ntico</state>
        <country>CO</country><url>https://empleos.example.co/x/1</url><category>logistica_transporte</category>
        <jobtype>presencial</jobtype><description>Cargue y descargue</description></job>
      <job><referencenumber>XML-2</referencenumber><title>Sin ciudad</title></job>
    </source>"""
    report = import_jobs(content=feed, filename="feed.xml")
    assert report.created == 1 and report.failed == 1
    assert report.errors[0]["record"] == 2 and "city" in report.errors[0]["reason"]


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"[{broken", "json", "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None, "binary"),
        (b"<job><title>x</title>", "xml", "not valid XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "xml", "DOCTYPE"),
        (b"title,company\nA,B\n", "csv", "external_ref"),
        (b'{"not": "a list"}', "json", "array"),
        (b"\xff\xfe\xfa", "csv", "UTF-8"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_written(app_ctx, content, fmt, message):
    with pytest.raises(InvalidFile, match=message):
        import_jobs(content=content, fmt=fmt)
    assert _count(JobOpening) == 0
    assert _count(AuditEvent) == 0


def test_candidate_csv_with_list_columns_and_spanish_booleans(app_ctx):
    text = (
        "external_ref,birth_year,city,department,education_level,years_experience,desired_category,"
        "desired_modality,expected_salary,skills,languages,email,marketing_consent\n"
        "C-1,1990,Cali,Valle del Cauca,tecnologo,5,ventas,presencial,2500000,ventas;negociación,español,"
        "a@example.com,sí\n"
    )
    report = import_candidates(content=text.encode(), filename="c.csv")
    assert report.created == 1, report.errors
    candidate = db.session.scalar(select(Candidate))
    assert candidate.skills == ["ventas", "negociación"] and candidate.marketing_consent is True


good_jobs = st.builds(lambda n: job_data(external_ref=f"G-{n}"), st.integers(0, 10_000))
bad_jobs = st.sampled_from(
    [{"category": "nope"}, {"apply_url": "ftp://x"}, {"title": ""}, {"salary_min": -5}, {"modality": "x"}]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.booleans(), good_jobs, bad_jobs),
        min_size=1,
        max_size=15,
        unique_by=lambda t: t[1]["external_ref"],
    )
)
def test_any_mix_of_good_and_bad_rows_keeps_exactly_the_good_ones(app_ctx, rows):
    db.session.execute(JobOpening.__table__.delete())
    db.session.commit()
    records = [good if ok else {**good, **bad} for ok, good, bad in rows]
    expected = {r["external_ref"] for (ok, _, _), r in zip(rows, records, strict=True) if ok}
    report = import_jobs(content=json.dumps(records).encode(), fmt="json")
    stored = set(db.session.scalars(select(JobOpening.external_ref)))
    assert stored == expected
    assert report.created == len(expected)
    assert report.failed == len(records) - len(expected)
