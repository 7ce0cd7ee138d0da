"""Rules told which applications to count: as the platforms report them (the default) or
first-hand, from the portal's attributed postbacks (real app, database and sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import AdGroup, ApplicationEvent, MetricDaily, PlatformCampaign
from adflux.services.rules import evaluation, store
from adflux.services.rules.panels import campaign_panel
from sync_helpers import synced_campaign

SPEC = {
    "conditions": [{"metric": "applications", "op": "<", "value": 1, "window": 3}],
    "action": {"kind": "notify"},
    "cooldown_days": 1,
}


def _first_hand(campaign_id: int, group_id: int, day, count: int) -> None:
    moment = datetime.combine(day, time(15), UTC)
    for n in range(count):
        db.session.add(
            ApplicationEvent(
                event_id=f"fh-{group_id}-{day}-{n}",
                job_reference="JOB",
                occurred_at=moment,
                attribution="attributed",
                campaign_id=campaign_id,
                platform="meta",
                ad_group_id=group_id,
                day=day,
            )
        )
    db.session.commit()


def test_a_rule_counts_platform_applications_unless_told_first_hand(client, app_ctx, sandbox):
    campaign, today = synced_campaign(client, sandbox, days=6)
    groups = db.session.scalars(
        select(AdGroup.id)
        .join(PlatformCampaign, AdGroup.platform_campaign_id == PlatformCampaign.id)
        .where(PlatformCampaign.campaign_id == campaign["id"])
        .order_by(AdGroup.id)
    ).all()
    _first_hand(campaign["id"], groups[0], today - timedelta(days=1), 3)
    _first_hand(campaign["id"], groups[1], today - timedelta(days=2), 1)

    platform, _ = campaign_panel(campaign["id"], today=today, days=3)
    own, _ = campaign_panel(campaign["id"], today=today, days=3, applications="first_hand")
    reported = db.session.scalar(
        select(func.sum(MetricDaily.applications)).where(
            MetricDaily.campaign_id == campaign["id"], MetricDaily.date >= today - timedelta(days=3)
        )
    )
    assert platform.applications.sum() == reported
    assert own.applications.tolist()[0] == [0, 0, 3] and own.applications.tolist()[1] == [0, 1, 0]
    assert own.applications.sum() == 4 and own.spend.tolist() == platform.spend.tolist()

    default = client.post("/api/v1/rules", json={"name": "Sin postulaciones", "spec": SPEC}).get_json()
    assert default["spec"]["applications_source"] == "platform"
    rule = client.post(
        "/api/v1/rules",
        json={
            "name": "Sin postulaciones propias",
            "campaign_id": campaign["id"],
            "spec": SPEC,
            "applications_source": "first_hand",
        },
    ).get_json()
    assert rule["spec"]["applications_source"] == "first_hand"
    store.set_enabled(rule_id=rule["id"], enabled=True)
    # Only the two ad groups without a first-hand application in three days are flagged.
    assert evaluation.run_after_sync(today=today)["rule_decisions"] == len(groups) - 2


def test_an_unknown_count_is_refused_and_the_cli_shows_the_count(client, app_ctx, cli):
    bad = client.post("/api/v1/rules", json={"name": "x", "spec": {**SPEC, "applications_source": "both"}})
    assert bad.status_code == 422 and "applications_source" in str(bad.get_json()["errors"])
    result = cli(
        "rules",
        "add",
        "--name",
        "Propias",
        "--spec",
        '{"conditions": [{"metric": "spend", "op": ">", "value": 1}], "action": {"kind": "notify"}}',
        "--count",
        "first_hand",
    )
    assert result.exit_code == 0, result.output
    assert "Propias (las que reporta el portal)" in result.output
    refused = cli("rules", "add", "--name", "y", "--count", "both")
    assert refused.exit_code != 0 and "plataforma, propias" in refused.output  # the names people read
