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
