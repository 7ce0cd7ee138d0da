"""`adflux demo`: the main job end to end on the embedded default (SQLite file, inline tasks,
in-process sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from adflux.app import create_app
from adflux.cli import CliContext, main
from adflux.extensions import db
from adflux.models import Campaign, MetricDaily, PlatformCampaign, SegmentationModel
from adflux.settings import Settings


def _run(app, *args):
    context = CliContext(api_url=None, token=None, as_json=False, _app=app)
    return CliRunner().invoke(main, list(args), obj=context, catch_exceptions=False)


def test_demo_runs_end_to_end_and_leaves_a_database_to_explore(tmp_path):
    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path / "instance")))
    # Platforms whose minimum custom audience (100) the segments of 1,500 candidates reach.
    sizes = ("--candidates", "1500", "--jobs", "40", "--days", "7")
    result = _run(app, "--json", "demo", *sizes, "--platforms", "meta,google,x")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert len(summary["platforms"]) == 3 and len(summary["segment_names"]) == 2
    by_platform = {row["platform"]: row for row in summary["by_platform"]["rows"]}
    assert set(by_platform) == {"meta", "google", "x"}
    assert all(row["impressions"] > 0 and row["spend"] > 0 for row in by_platform.values())
    assert len(summary["by_segment"]["rows"]) == 2
    # First-hand: clicks on the tracking links, the portal's postbacks, conversions to the platforms.
    tracking = summary["tracking"]
    own = {row["platform"]: row for row in tracking["report"]["rows"]}
    assert set(own) == set(by_platform)  # the platforms the demo published on
    assert all(0 <= r["applications_first_hand"] <= r["applications_platform"] for r in own.values())
    assert sum(r["applications_first_hand"] for r in own.values()) > 0
    assert tracking["clicks"] > 0 and tracking["ingest"]["stored"] == tracking["postbacks"]
    assert tracking["report"]["unattributed"] >= 1
    assert sum(tracking["conversions"]["sent"].values()) > 0 and not tracking["conversions"]["failed"]
    assert (tmp_path / "instance" / "adflux.db").exists()
    with app.app_context():
        assert db.session.scalar(select(SegmentationModel.status)) == "active"
        campaign = db.session.get(Campaign, summary["campaign_id"])
        assert campaign.status == "active" and {pc.status for pc in campaign.platform_campaigns} == {"active"}
        followed = db.session.scalars(select(Campaign).where(Campaign.playbook_id.is_not(None))).all()
        assert db.session.scalar(select(func.count()).select_from(PlatformCampaign)) == 3 + 2 * len(followed)
        assert db.session.scalar(select(func.count(MetricDaily.date.distinct()))) >= 7
    # The automation part: the feed changed between two runs and the campaigns followed.
    first, second = summary["feed"]["runs"]
    assert first["status"] == second["status"] == "succeeded" and first["new"] == 12
    assert (second["new"], second["changed"], second["closed"]) == (2, 1, 1)
    statuses = [row["status"] for row in summary["feed"]["campaigns"]]
    # The changed opening keeps its campaign (updated in place); the filled one is paused.
    assert statuses.count("pausada") == 1 and statuses.count("finalizada") == 0
    assert len(statuses) == len(followed) and statuses.count("activa") == len(statuses) - 1
    decisions = " | ".join(row["decision"] for row in summary["feed"]["campaigns"])
    assert "cerrada en el feed (cubierta o cerrada)" in decisions
    assert "anuncios actualizados en cada plataforma" in decisions
    # The database is there for the other commands, and a second run starts over cleanly.
    shown = _run(app, "--json", "campaign", "show", str(summary["campaign_id"]))
    assert json.loads(shown.output)["status"] == "active"
    again = _run(app, "--json", "demo", "--candidates", "1000", "--jobs", "30", "--days", "3")
    assert again.exit_code == 0, again.output
    # On TikTok (1,000 at least) no segment of 1,000 candidates is offered: a broad audience.
    assert json.loads(again.output)["segment_names"] == []
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Campaign).where(Campaign.playbook_id.is_(None))
            )
            == 1
        )
        db.engine.dispose()


def test_demo_rejects_unknown_platforms(tmp_path):
    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path / "instance")))
    result = _run(app, "demo", "--platforms", "meta,orkut")
    assert result.exit_code == 2 and "orkut" in result.output


def test_a_second_demo_never_erases_what_a_person_made_unless_told_and_then_backs_it_up(tmp_path):
    from adflux.models import User
    from adflux.services import auth as auth_service
    from adflux.services import backups

    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path / "instance")))
    first = _run(app, "--json", "demo", "--candidates", "1000", "--jobs", "30", "--days", "3")
    assert first.exit_code == 0, first.output
    summary_campaigns = json.loads(first.output)["feed"]["campaigns"]
    with app.app_context():
        auth_service.create_user(email="gerente@portal.example", password="una-clave-larga", role="admin")

    refused = _run(app, "demo", "--candidates", "1000", "--jobs", "30", "--days", "3")
    assert (
        refused.exit_code == 1
        and "users 1 (la demo dejó 0)" in refused.output
        and "--reset" in refused.output
    )
    assert "candidates" not in refused.output  # what the demo left is not what stops it
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(Campaign).where(Campaign.playbook_id.is_(None))
            )
            == 1
        )
        assert backups.list_backups() == []

    reset = _run(app, "demo", "--reset", "--candidates", "1000", "--jobs", "30", "--days", "3")
    assert reset.exit_code == 0, reset.output
    with app.app_context():
        saved = backups.list_backups()
        assert len(saved) == 1 and saved[0].tables["users"] == 1
        assert saved[0].tables["campaigns"] == 1 + len(summary_campaigns)
        # The sandbox's objects of the erased campaigns are kept beside the database backup.
        assert Path(saved[0].path + ".sandbox.db").stat().st_size > 0
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.engine.dispose()


def test_after_the_demo_another_process_stops_its_campaign_and_new_ids_never_repeat(tmp_path):
    """The sandbox remembers across processes: a later command (a new in-process sandbox on the
    same store) pauses the demo's campaign, and a campaign published then gets ids of its own."""
    from adflux import embedded

    app = create_app(Settings.from_env({}, env="testing", instance_path=str(tmp_path / "instance")))
    demo = _run(app, "--json", "demo", "--candidates", "1000", "--jobs", "30", "--days", "3")
    assert demo.exit_code == 0, demo.output
    campaign_id = json.loads(demo.output)["campaign_id"]
    assert (tmp_path / "instance" / "sandbox.db").exists()
    # The next command runs in a new process: its sandbox starts afresh on the same store.
    embedded.set_in_process_sandbox(None).stop()
    try:
        paused = _run(app, "--json", "campaign", "pause", str(campaign_id))
        assert paused.exit_code == 0, paused.output
        assert json.loads(paused.output)["status"] == "paused"
        with app.app_context():
            job_id = db.session.get(Campaign, campaign_id).job_id
            meta_before = db.session.scalar(
                select(func.count()).select_from(PlatformCampaign).where(PlatformCampaign.platform == "meta")
            )
        created = _run(
            app, "--json", "create-campaign", "--job-id", str(job_id), "--platforms", "meta", "--publish"
        )
        assert created.exit_code == 0, created.output
        with app.app_context():
            meta_ids = db.session.scalars(
                select(PlatformCampaign.external_campaign_id).where(PlatformCampaign.platform == "meta")
            ).all()
            assert len(meta_ids) == meta_before + 1 and len(set(meta_ids)) == len(meta_ids)
            db.engine.dispose()
    finally:
        running = embedded.set_in_process_sandbox(None)
        if running is not None:
            running.stop()
