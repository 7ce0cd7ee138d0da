"""The admin account form offers each platform's conversion ids and checks them on save."""

from __future__ import annotations

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import PlatformAccount
from web.conftest import csrf_token


def test_the_form_names_the_conversion_ids_and_saves_a_google_conversion_action(app, web_as):
    admin = web_as("admin")
    html = admin.get("/admin/accounts").get_data(as_text=True)
    for key in ("conversion_action_id", "pixel_code", "event_tag_id"):
        assert f"<code>{key}</code>" in html
    token = csrf_token(admin, "/admin/accounts")
    form = {
        "csrf_token": token,
        "platform": "google",
        "name": "Google Colombia",
        "external_account_id": "123-456-7890",
        "credentials": "developer_token = dev-123\naccess_token = ya29-abc",
    }
    bad = admin.post("/admin/accounts", data={**form, "identifiers": "conversion_action_id = compra"})
    assert bad.status_code == 400
    assert "conversionActions" in bad.get_data(as_text=True)
    good = admin.post(
        "/admin/accounts",
        data={**form, "identifiers": "conversion_action_id = customers/1234567890/conversionActions/77"},
    )
    assert good.status_code == 302
    with app.app_context():
        account = db.session.scalars(select(PlatformAccount)).one()
        assert account.identifiers == {"conversion_action_id": "77"}
    listed = admin.get("/admin/accounts").get_data(as_text=True)
    assert "ID de la acción de conversión (para las conversiones)" in listed
