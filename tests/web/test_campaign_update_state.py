"""The campaign page shows each platform's in-place update state, in Spanish."""

from __future__ import annotations

from adflux.extensions import db
from adflux.services import campaigns as campaigns_service
from adflux.services.campaigns import changes
from factories import make_job


def test_the_campaign_page_shows_which_platforms_took_a_change(app, viewer, sandbox):
    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta", "tiktok"], budget_total=3_000_000
        )
        campaigns_service.publish_campaign(campaign_id=campaign.id)
        sandbox.expire_tokens("tiktok")
        changes.change_campaign(db.session, campaign.id, actor="ana@example.co", budget_total=4_000_000)
        campaign_id = campaign.id
    page = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Actualización en la plataforma" in page
    assert page.count("aplicada") == 1 and "fallida" in page


def test_the_campaign_page_and_the_cli_show_each_ad_group_paused_alone(app, viewer, sandbox, cli):
    from adflux.services.campaigns.ad_group_status import set_ad_group_status

    with app.app_context():
        campaign = campaigns_service.create_campaign(
            job_id=make_job().id, platforms=["meta"], budget_total=3_000_000
        )
        campaigns_service.publish_campaign(campaign_id=campaign.id)
        group = campaign.platform_campaigns[0].ad_groups[0]
        set_ad_group_status(db.session, status="paused", reason="prueba", actor="ana@example.co",
                            ad_group_ids=[group.id])  # fmt: skip
        campaign_id, group_id, name = campaign.id, group.id, group.name
        external = group.external_id
    assert sandbox.state.get("meta", "adset", external)["status"] == "PAUSED"
    page = viewer.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Grupos de anuncios" in page
    row = page.split(f'data-ad-group="{group_id}"', 1)[1].split("</tr>", 1)[0]
    assert name in row and "Pausada" in row and "al día" in row
    with app.app_context():
        shown = cli("campaign", "show", str(campaign_id))
    assert shown.exit_code == 0, shown.output
    assert "Grupos de anuncios" in shown.output and "pausada" in shown.output
