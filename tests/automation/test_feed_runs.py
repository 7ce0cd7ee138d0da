"""Feed runs: read over HTTP, compared with the database, written whole, guarded against a
broken feed, and cheap when nothing changed."""

from __future__ import annotations

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import FeedRun, JobOpening
from adflux.services.feeds import registry, runs
from feed_helpers import feed_jobs, publish_feed


def _jobs(status: str | None = None) -> int:
    stmt = select(func.count()).select_from(JobOpening)
    if status:
        stmt = stmt.where(JobOpening.status == status)
    return db.session.scalar(stmt)


def _feed(portal, **extra):
    return registry.create_feed(data={"name": "Portal", "location": portal.url, "format": "xml", **extra})


def test_a_feed_run_finds_new_changed_unchanged_closed_and_rejected(app_ctx, portal):
    jobs = feed_jobs(20)
    jobs[3] = {**jobs[3], "category": "astrologia"}  # a category AdFlux does not know
    publish_feed(portal, jobs)
    feed = _feed(portal)
    first = runs.run_feed(feed_id=feed.id)
    assert (first.status, first.listed, first.new, first.rejected) == ("succeeded", 20, 19, 1)
    assert first.errors == [
        {"record": 4, "external_ref": jobs[3]["external_ref"], "reason": "unknown category 'astrologia'"}
    ]
    assert _jobs("open") == 19
    stored = db.session.scalar(select(JobOpening).where(JobOpening.external_ref == jobs[0]["external_ref"]))
    assert (
        stored.feed_id == feed.id
        and stored.city == jobs[0]["city"]
        and stored.salary_min == jobs[0]["salary_min"]
    )

    changed = [dict(j) for j in jobs]
    changed[0].update(salary_min=1_900_000, salary_max=2_600_000)  # a changed salary
    changed[1]["feed_status"] = "filled"  # a filled opening
    del changed[2]  # gone from the feed
    changed.append(feed_jobs(21)[20])  # a new one
    publish_feed(portal, changed)
    second = runs.run_feed(feed_id=feed.id)
    assert (second.new, second.changed, second.closed, second.unchanged, second.rejected) == (1, 1, 2, 17, 1)
    closed = dict(
        db.session.execute(
            select(JobOpening.external_ref, JobOpening.close_reason).where(JobOpening.status == "closed")
        ).all()
    )
    assert closed == {jobs[1]["external_ref"]: "feed_closed", jobs[2]["external_ref"]: "feed_gone"}

    third = runs.run_feed(feed_id=feed.id)  # nothing changed: one conditional request, a 304
    assert third.status == "unchanged" and portal.not_modified == 1
    assert _jobs() == 20


def test_a_reopened_opening_comes_back_and_a_manual_close_stays(app_ctx, portal):
    jobs = feed_jobs(5)
    publish_feed(portal, jobs)
    feed = _feed(portal)
    runs.run_feed(feed_id=feed.id)
    publish_feed(portal, jobs[1:])
    runs.run_feed(feed_id=feed.id)
    from adflux.services.jobs import close_job

    manual = db.session.scalar(select(JobOpening).where(JobOpening.external_ref == jobs[2]["external_ref"]))
    close_job(job_id=manual.id)
    publish_feed(portal, jobs)
    run = runs.run_feed(feed_id=feed.id)
    assert run.reopened == 1
    status = dict(db.session.execute(select(JobOpening.external_ref, JobOpening.status)).all())
    assert status[jobs[0]["external_ref"]] == "open" and status[jobs[2]["external_ref"]] == "closed"


def test_a_feed_that_shrinks_suddenly_closes_nothing(app_ctx, portal):
    jobs = feed_jobs(20)
    publish_feed(portal, jobs)
    feed = _feed(portal)
    runs.run_feed(feed_id=feed.id)
    publish_feed(portal, jobs[:2])  # 90 % smaller: a broken export, not 18 filled jobs
    run = runs.run_feed(feed_id=feed.id)
    assert run.status == "failed" and "nothing was closed" in run.error
    assert _jobs("open") == 20
    assert db.session.get(type(feed), feed.id).last_status == "failed"


def test_a_truncated_or_unreachable_feed_fails_the_run_and_writes_nothing(app_ctx, portal):
    jobs = feed_jobs(10)
    publish_feed(portal, jobs)
    feed = _feed(portal)
    runs.run_feed(feed_id=feed.id)
    whole = portal._content
    portal.publish(whole[: len(whole) // 2])  # cut in the middle of a record
    run = runs.run_feed(feed_id=feed.id)
    assert run.status == "failed" and "broken" in run.error
    assert _jobs("open") == 10 and run.new == 0

    registry.update_feed(feed_id=feed.id, changes={"location": "http://127.0.0.1:9/feed.xml"})
    down = runs.run_feed(feed_id=feed.id)
    assert down.status == "failed" and "could not be read" in down.error
    assert _jobs("open") == 10
    assert db.session.scalar(select(func.count()).select_from(FeedRun)) == 3


def test_csv_json_and_jsonl_feeds_with_a_mapping(app_ctx, tmp_path):
    (tmp_path / "a.csv").write_text(
        "codigo;puesto;empresa;ciudad;area;link;salario\n"
        "R1;Enfermero jefe;Clínica Sur;medellin;Salud;https://x.co/1;$3.000.000\n"
        "R2;Conductor;Trans S.A.;Atlántida;Logística y transporte;https://x.co/2;\n",
        encoding="utf-8",
    )
    feed = registry.create_feed(
        data={
            "name": "CSV",
            "location": str(tmp_path / "a.csv"),
            "mapping": {"title": "puesto", "category": "area"},
        }
    )
    run = runs.run_feed(feed_id=feed.id)
    assert (run.new, run.rejected) == (1, 1)
    assert run.errors[0]["line"] == 3 and "department" in run.errors[0]["reason"]
    job = db.session.scalar(select(JobOpening).where(JobOpening.external_ref == "R1"))
    assert (job.city, job.department, job.category, job.salary_min) == (
        "Medellín",
        "Antioquia",
        "salud",
        3_000_000,
    )

    (tmp_path / "b.json").write_text(
        '{"jobs": [{"id": "J1", "title": "Analista", "company": "X", "city": "Cali", '
        '"category": "tecnologia", "url": "https://x.co/3"}]}',
        encoding="utf-8",
    )
    (tmp_path / "c.jsonl").write_text(
        '{"id": "L1", "title": "Vendedor", "company": "Y", "city": "Bogotá", '
        '"category": "ventas", "url": "https://x.co/4"}\n{broken\n',
        encoding="utf-8",
    )
    for name in ("b.json", "c.jsonl"):
        other = registry.create_feed(data={"name": name, "location": str(tmp_path / name)})
        done = runs.run_feed(feed_id=other.id)
        assert done.new == 1, done.errors
    assert db.session.scalar(select(FeedRun.rejected).order_by(FeedRun.id.desc())) == 1


def test_bad_feed_definitions_are_refused_at_save_time(app_ctx):
    import pytest

    from adflux.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as bad:
        registry.create_feed(
            data={"name": "Ftp", "location": "ftp://x/feed.xml", "format": "xml", "mapping": {"titulo": "a"}}
        )
    assert set(bad.value.errors) == {"location"}
    with pytest.raises(ValidationFailed) as bad_mapping:
        registry.create_feed(data={"name": "Local", "location": "/tmp/f.xml", "mapping": {"titulo": "a"}})
    assert bad_mapping.value.errors == {"mapping": ["unknown field: titulo"]}


def test_a_failing_feed_raises_an_alert_that_resolves_when_it_reads_well(app_ctx, portal):
    from adflux.models import Alert
    from adflux.services import alerting

    def open_alerts():
        return db.session.scalars(
            select(Alert.key).where(Alert.rule == "job_feed_failing", Alert.status == "open")
        ).all()

    jobs = feed_jobs(10)
    publish_feed(portal, jobs)
    feed = _feed(portal)
    runs.run_feed(feed_id=feed.id)
    publish_feed(portal, jobs[:1])
    runs.run_feed(feed_id=feed.id)
    alerting.evaluate()
    assert open_alerts() == [f"feed:{feed.id}"]
    publish_feed(portal, jobs)  # back to what the last good run read: a 304
    assert runs.run_feed(feed_id=feed.id).status == "unchanged"
    alerting.evaluate()
    assert open_alerts() == []
