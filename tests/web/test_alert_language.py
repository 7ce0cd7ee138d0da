"""An alert is evaluated once and read in the reader's language: titles, what it is about and its
message follow the dashboard's, the API's (Accept-Language) and the CLI's (--lang) language, not
the language the evaluator ran in; codes are not shown where a label exists."""

from __future__ import annotations

from adflux.catalogue import message, restore
from adflux.extensions import db
from adflux.models import Alert
from adflux.monitoring import alert_names
from adflux.services import alerting
from ops_data import make_model
from web.conftest import csrf_token


def _drift_alert(app, monkeypatch) -> Alert:  # type: ignore[no-untyped-def]
    """Evaluated in its own app context, as a worker would (a request must not reuse it: Flask-Babel
    keeps the chosen locale on the app context)."""
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")  # the evaluator runs in Spanish
    with app.app_context():
        model = make_model(drift=0.7)
        alerting.evaluate(rules=("segmentation_drift",), notify=False)
        alert = db.session.query(Alert).filter_by(rule="segmentation_drift").one()
        assert alert.message.startswith(f"Modelo de segmentación v{model.version}: deriva (PSI) 0.700")
        db.session.expunge(alert)
        return alert


def test_the_api_says_an_alert_in_the_requests_language(app, client_as, monkeypatch):
    alert = _drift_alert(app, monkeypatch)
    viewer = client_as("viewer")
    english = viewer.get("/api/v1/alerts", headers={"Accept-Language": "en"}).get_json()["items"][0]
    spanish = viewer.get("/api/v1/alerts", headers={"Accept-Language": "es-CO"}).get_json()["items"][0]
    assert english["message"] == f"Segmentation model v{alert.key.split(':')[1]}: drift (PSI) 0.700 > 0.25"
    assert english["title"] == "Segments drifting" and english["severity_label"] == "warning"
    assert english["about"] == f"Segmentation model v{alert.key.split(':')[1]}"
    assert spanish["message"] == alert.message and spanish["title"] == "Deriva de los segmentos"
    assert spanish["severity_label"] == "advertencia" and spanish["rule"] == "segmentation_drift"
    one = viewer.get(f"/api/v1/alerts/{alert.id}", headers={"Accept-Language": "en"}).get_json()
    assert one["message"] == english["message"] and one["details"]["summary"]


def test_the_dashboard_shows_labels_in_the_readers_language(app, web_as, monkeypatch):
    _drift_alert(app, monkeypatch)
    admin = web_as("admin")
    spanish = admin.get("/alerts").get_data(as_text=True)
    assert "Deriva de los segmentos" in spanish and "deriva (PSI)" in spanish
    assert "segmentation_drift" not in spanish and "advertencia" in spanish
    admin.post("/language", data={"locale": "en", "csrf_token": csrf_token(admin, "/alerts")})
    english = admin.get("/alerts").get_data(as_text=True)
    assert "Segments drifting" in english and "drift (PSI) 0.700" in english and "deriva" not in english
    health = admin.get("/system-health").get_data(as_text=True)
    assert "Segments drifting" in health and "drift (PSI)" in health


def test_the_cli_says_alerts_in_its_language(app, cli, monkeypatch):
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")  # restored after the test, whatever --lang sets
    assert "No open alerts." in cli("--lang", "en", "alerts").output
    _drift_alert(app, monkeypatch)
    english = cli("--lang", "en", "alerts").output
    assert "Segments drifting" in english and "drift (PSI)" in english and "Open alerts" in english
    spanish = cli("--lang", "es", "alerts").output  # in-process: --lang en stays set otherwise
    assert "Deriva de los segmentos" in spanish and "deriva (PSI)" in spanish


def test_keys_read_as_what_they_are_about():
    assert alert_names.key_label("platform:meta") == "Meta"
    assert alert_names.key_label("campaign:12") in ("Campaña 12", "Campaign 12")
    assert alert_names.key_label("") in ("Todo el servicio", "The whole service")
    assert alert_names.key_label("something:new") == "something:new"  # unknown kinds show as they are


def test_a_stored_message_falls_back_to_its_text_when_it_cannot_be_said_again():
    said = message("Queue %(id)s", id="sync")
    assert restore(said.stored(), "x", "en") == "Queue sync"
    assert restore(said.stored(), "x", "es_CO") == "Cola sync"
    assert restore(None, "as stored") == "as stored"  # an alert from before messages were kept
    assert restore({"msgid": "Queue %(id)s", "values": {}}, "as stored") == "as stored"  # placeholder gone
    nested = message("%(n)s %(what)s (minimum %(limit)s)", n=1, what=message("web processes"), limit=2)
    assert restore(nested.stored(), "x", "en") == "1 web processes (minimum 2)"
