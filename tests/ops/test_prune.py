"""adflux db prune: rows past retention and simulated data go; what is in use stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import (
    Alert,
    AuditEvent,
    Campaign,
    CampaignMetricDaily,
    Candidate,
    CandidatePersona,
    CandidateSegment,
    DailyMetricTotal,
    JobOpening,
    MetricDaily,
    RequestStat,
    Segment,
    TaskRun,
)
from adflux.services import maintenance
from ops_data import make_campaign_with_metrics, make_job, make_model

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)


def _candidate(ref: str) -> Candidate:
    candidate = Candidate(
        external_ref=ref,
        birth_year=1992,
        city="Bogotá",
        department="Bogotá D.C.",
        education_level="profesional",
        desired_category="tecnologia",
        desired_modality="remoto",
        expected_salary=5_000_000,
    )
    db.session.add(candidate)
    db.session.flush()
    return candidate


def _seed() -> dict[str, int]:
    for status, finished in (("succeeded", OLD), ("failed", OLD), ("succeeded", NOW)):
        db.session.add(
            TaskRun(id=str(uuid.uuid4()), kind="k", status=status, finished_at=finished, created_at=finished)
        )
    db.session.add(TaskRun(id=str(uuid.uuid4()), kind="k", status="running", created_at=OLD))  # stuck: kept
    db.session.add(
        Alert(rule="high_latency", key="a", message="m", status="resolved", opened_at=OLD, resolved_at=OLD)
    )
    db.session.add(Alert(rule="high_latency", key="b", message="m", status="resolved", resolved_at=NOW))
    db.session.add(
        Alert(rule="queue_backlog", key="c", message="m", status="open", opened_at=OLD)
    )  # open: kept
    db.session.add(AuditEvent(action="old", entity_type="x", at=OLD))
    db.session.add(AuditEvent(action="new", entity_type="x", at=NOW))
    db.session.add(RequestStat(minute=OLD, route="GET /x", requests=1, errors=0, duration_seconds=0.1))
    db.session.add(RequestStat(minute=NOW.replace(second=0, microsecond=0), route="GET /x", requests=1))

    model = make_model()
    segment = Segment(model_id=model.id, cluster_index=0, name="Segmento A", size=2)
    db.session.add(segment)
    simulated, real = _candidate("SIM-C-0000001"), _candidate("REAL-C-1")
    for candidate in (simulated, real):
        db.session.add(CandidatePersona(candidate_id=candidate.id, persona="p", persona_index=0))
        db.session.add(CandidateSegment(model_id=model.id, candidate_id=candidate.id, segment_id=segment.id))
    db.session.commit()

    day = NOW.date()
    sim_campaign = make_campaign_with_metrics(
        job=make_job(external_ref="SIM-J-0000001"), days=[(day, 100_000, 2)]
    )
    sim_campaign.segments.append(segment)
    real_campaign = make_campaign_with_metrics(job=make_job(external_ref="REAL-J-1"), days=[(day, 50_000, 1)])
    db.session.commit()
    from adflux.services.metrics_store import rebuild_all_rollups

    rebuild_all_rollups()
    db.session.commit()
    return {"sim_campaign": sim_campaign.id, "real_campaign": real_campaign.id}


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


EXPECTED_RETENTION = {"task_runs": 2, "alerts": 1, "audit_events": 1, "request_stats": 1}
EXPECTED_SIMULATED = {
    "candidate_segments": 1,
    "candidate_personas": 1,
    "candidates": 1,
    "metrics_daily": 1,
    "campaign_metrics_daily": 1,
    "ad_creatives": 0,
    "ad_groups": 1,
    "platform_campaigns": 1,
    "campaign_segments": 1,
    "campaigns": 1,
    "job_openings": 1,
}


def test_dry_run_counts_and_deletes_nothing(app_ctx):
    _seed()
    before = {m.__name__: _count(m) for m in (TaskRun, Alert, AuditEvent, Candidate, JobOpening, MetricDaily)}
    report = maintenance.prune(dry_run=True)
    assert report.retention == EXPECTED_RETENTION
    assert report.simulated == EXPECTED_SIMULATED
    after = {m.__name__: _count(m) for m in (TaskRun, Alert, AuditEvent, Candidate, JobOpening, MetricDaily)}
    assert after == before


def test_prune_deletes_what_the_dry_run_counted_and_keeps_the_rest(app_ctx):
    ids = _seed()
    report = maintenance.prune()
    assert report.retention == EXPECTED_RETENTION and report.simulated == EXPECTED_SIMULATED
    db.session.expire_all()
    assert _count(TaskRun) == 2  # the recent one and the stuck one
    assert {a.key for a in db.session.scalars(select(Alert))} == {"b", "c"}
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "new",
        "maintenance.prune",
    ]
    assert [c.external_ref for c in db.session.scalars(select(Candidate))] == ["REAL-C-1"]
    assert [j.external_ref for j in db.session.scalars(select(JobOpening))] == ["REAL-J-1"]
    assert db.session.get(Campaign, ids["sim_campaign"]) is None
    assert db.session.get(Campaign, ids["real_campaign"]) is not None
    # The day total now sums the real campaign only.
    [total] = db.session.scalars(select(DailyMetricTotal)).all()
    assert total.spend_micros == 50_000 * 1_000_000 and total.campaigns == 1
    assert _count(CampaignMetricDaily) == 1


def test_keep_simulated_prunes_only_retention(app_ctx):
    _seed()
    report = maintenance.prune(simulated=False)
    assert report.simulated == {} and report.retention == EXPECTED_RETENTION
    assert _count(Candidate) == 2


def test_nothing_to_prune_leaves_no_audit_event(app_ctx):
    report = maintenance.prune()
    assert report.total == 0 and _count(AuditEvent) == 0


def test_cli_prune_dry_run_then_for_real(app_ctx, cli):
    _seed()
    dry = cli("db", "prune", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Se borraría (simulación)" in dry.output and "no se borró nada" in dry.output
    assert "candidates" in dry.output and _count(Candidate) == 2
    real = cli("db", "prune")
    assert real.exit_code == 0 and "Borrado" in real.output
    db.session.expire_all()
    assert _count(Candidate) == 1


def test_daily_prune_is_scheduled_and_spares_simulated_data(app, app_ctx):
    entry = app.extensions["celery"].conf.beat_schedule["prune-old-rows"]
    assert entry["task"] == "adflux.tasks.maintenance.prune"
    _seed()
    task = app.extensions["celery"].tasks["adflux.tasks.maintenance.prune"]
    result = task.apply(task_id="prune-run-1").get()
    assert result["simulated"] == {} and result["retention"]["task_runs"] == 2
    db.session.expire_all()
    assert _count(Candidate) == 2
