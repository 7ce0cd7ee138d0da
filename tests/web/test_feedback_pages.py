"""Sugerencias: anyone signed in sends one; it is stored, listed for admins and counted in the week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Feedback
from adflux.services import feedback as feedback_service
from adflux.services import local_dates
from adflux.services.weekly_report import week_bounds, weekly_report
from web.conftest import csrf_token


def _send(client, **form):
    data = {"kind": "idea", "message": "", "page": "/campaigns", **form}
    return client.post("/feedback", data={**data, "csrf_token": csrf_token(client, "/feedback")})


def test_a_viewer_sends_a_suggestion_and_an_admin_reads_it(app, web_as):
    viewer = web_as("viewer")
    page = viewer.get("/feedback?from=/campaigns").get_data(as_text=True)
    assert "Sugerencias" in page and "Cuéntenos qué haría mejor a AdFlux" in page
    assert "Sugerencias recibidas" not in page  # the list is for admins

    sent = _send(viewer, kind="problem", message="El informe semanal debería incluir TikTok por ciudad.")
    assert sent.status_code == 302
    assert "Gracias: su sugerencia llegó al equipo." in viewer.get("/feedback").get_data(as_text=True)
    with app.app_context():
        item = db.session.scalars(select(Feedback)).one()
        assert (item.kind, item.page, item.status) == ("problem", "/campaigns", "new")
        assert item.user_id is not None

    admin = web_as("admin")
    listing = admin.get("/feedback").get_data(as_text=True)
    assert "El informe semanal debería incluir TikTok por ciudad." in listing
    assert "1 sugerencia recibida" in listing and "Un problema 1" in listing
    assert (
        admin.post(
            f"/feedback/{item.id}/read", data={"csrf_token": csrf_token(admin, "/feedback")}
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Feedback, item.id).status == "read"
    assert (
        viewer.post(
            f"/feedback/{item.id}/read", data={"csrf_token": csrf_token(viewer, "/feedback")}
        ).status_code
        == 403
    )


def test_a_suggestion_that_is_too_short_or_off_site_is_not_stored_as_sent(app, web_as):
    viewer = web_as("viewer")
    short = _send(viewer, message="no")
    assert short.status_code == 400
    assert "Escriba entre 5 y 2.000 caracteres." in short.get_data(as_text=True)
    odd = _send(viewer, kind="spam", message="Una sugerencia válida")
    assert odd.status_code == 400 and "Elija qué tipo de sugerencia es." in odd.get_data(as_text=True)
    offsite = _send(viewer, message="Una sugerencia válida", page="https://evil.example/x")
    assert offsite.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Feedback)).all()
        assert len(rows) == 1 and rows[0].page is None


def test_the_weekly_report_counts_this_weeks_suggestions_only(app_ctx):
    feedback_service.submit_feedback(kind="idea", message="Un tablero por ciudad")
    feedback_service.submit_feedback(kind="idea", message="Exportar a Excel")
    old = feedback_service.submit_feedback(kind="other", message="De la semana pasada")
    old.created_at = datetime.now(UTC) - timedelta(days=7)  # the same moment of last week
    db.session.commit()
    report = weekly_report()
    assert report["feedback"] == {"total": 2, "by_kind": {"idea": 2, "problem": 0, "other": 0}}
    last_week = weekly_report(week_of=local_dates.today() - timedelta(days=7))
    assert last_week["feedback"]["total"] == 1
    assert week_bounds(date(2026, 12, 6)) == (date(2026, 11, 30), date(2026, 12, 6))


def test_the_weekly_report_through_the_api_and_the_cli(app_ctx, client_as, cli):
    feedback_service.submit_feedback(kind="problem", message="No encuentro el botón de pausar")
    body = client_as("viewer").get("/api/v1/reports/weekly").get_json()
    assert body["feedback"] == {"total": 1, "by_kind": {"idea": 0, "problem": 1, "other": 0}}
    monday, sunday = week_bounds(local_dates.today())
    assert (body["week_start"], body["week_end"]) == (monday.isoformat(), sunday.isoformat())
    bad = client_as("viewer").get("/api/v1/reports/weekly?week_of=ayer")
    assert bad.status_code == 422 and "week_of" in str(bad.get_json()["errors"])
    output = cli("weekly-report").output
    assert "Sugerencias" in output and "1 (ideas 0, problemas 1, otras 0)" in output
