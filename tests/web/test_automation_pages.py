"""The automation pages (feeds, playbooks, approvals) through the Flask test client.

Data comes through the services and the real loop: a feed file read by `run_feed`, playbooks saved
by the playbook registry, and campaigns awaiting approval made by a playbook that requires it.
Set-up runs inside `with app.app_context():` and requests outside it (see test_dashboard_pages).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import Campaign, FeedRun, JobFeed, Playbook
from adflux.services import approvals
from adflux.services.feeds import registry as feeds
from adflux.services.feeds import runs
from adflux.services.playbooks import registry as playbooks
from adflux.simulation.portal_feed import render_xml
from feed_helpers import feed_jobs
from web.conftest import csrf_token

HOSTILE = '<script>alert("x")</script>'
PAGES = ["/feeds", "/playbooks", "/approvals"]


def feed_file(tmp_path: Path, jobs: list[dict[str, Any]], name: str = "feed.xml") -> str:
    path = tmp_path / name
    path.write_bytes(render_xml(jobs))
    return str(path)


def read_feed(tmp_path: Path, jobs: list[dict[str, Any]], name: str = "Portal") -> int:
    """A feed over a file with these openings, read once; returns the feed id."""
    feed = feeds.create_feed(data={"name": name, "location": feed_file(tmp_path, jobs)})
    runs.run_feed(feed_id=feed.id)
    return feed.id


def pending_campaigns(tmp_path: Path, n: int = 2) -> list[int]:
    """n campaigns awaiting approval, made by the loop from a feed and an approval playbook."""
    playbooks.create_playbook(
        data={"name": "Revisar", "platforms": ["meta"], "budget_total": 800_000, "requires_approval": True}
    )
    read_feed(tmp_path, feed_jobs(n))
    ids = [c.id for c in approvals.list_pending().items]
    assert len(ids) == n
    return ids


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("path", PAGES)
def test_automation_pages_send_anonymous_people_to_sign_in(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_automation_pages_render_empty_for_a_viewer_and_the_menu_leads_there(viewer, path):
    response = viewer.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="es-CO">' in html
    assert 'href="/feeds" aria-current="page">Automatización</a>' in html
    assert "Feeds de ofertas" in html and "Playbooks" in html and "Aprobaciones" in html


def test_viewers_see_every_page_but_no_buttons(app, viewer, tmp_path):
    with app.app_context():
        pending_campaigns(tmp_path, 1)
        playbook_id = db.session.scalar(select(Playbook.id))
        feed_id = db.session.scalar(select(JobFeed.id))
    feeds_page = viewer.get("/feeds").get_data(as_text=True)
    assert "Portal" in feeds_page and "Leer ahora" not in feeds_page and "Agregar un feed" not in feeds_page
    assert f"/feeds/{feed_id}/run" not in feeds_page
    playbooks_page = viewer.get("/playbooks").get_data(as_text=True)
    assert "Revisar" in playbooks_page and f"/playbooks/{playbook_id}/enabled" not in playbooks_page
    assert f"/playbooks/{playbook_id}/dry-run" in playbooks_page  # reading is for everyone
    approvals_page = viewer.get("/approvals").get_data(as_text=True)
    assert (
        "Revisar" in approvals_page and "/approve" not in approvals_page and "/reject" not in approvals_page
    )
    assert 'Aprobaciones <span class="count">1</span>' in approvals_page


def test_the_feeds_page_shows_each_feed_its_runs_and_the_rejected_rows(app, viewer, tmp_path):
    jobs = feed_jobs(6)
    jobs[3] = {**jobs[3], "category": "astrologia"}  # a category AdFlux does not know
    with app.app_context():
        read_feed(tmp_path, jobs, name=HOSTILE)
        feeds.update_feed(feed_id=db.session.scalar(select(JobFeed.id)), changes={"interval_minutes": 120})
        db.session.scalar(select(FeedRun)).started_at = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
        db.session.commit()
        secret = "https://lector:clave-secreta@portal.example/empleos.xml?token=abc123"
        feeds.create_feed(data={"name": "Con clave", "location": secret})
    html = viewer.get("/feeds").get_data(as_text=True)
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "<td>XML</td>" in html and "cada 2 horas" in html and "<td>Sí</td>" in html
    assert 'class="badge badge-succeeded">Completada</span>' in html  # the last read, translated
    assert "Programada" in html  # the run's trigger
    # listed 6, new 5, rejected 1, and the rejected row: where, which reference, why.
    assert '<td class="num">6</td><td class="num">5</td>' in html
    assert "1 fila rechazada; la primera:" in html
    assert "Registro 4" in html and jobs[3]["external_ref"] in html and "astrologia" in html
    assert "10:30:00" in html  # 15:30 UTC is 10:30 in Bogotá
    # A feed address may carry a password or a token: neither is shown.
    assert "https://portal.example/empleos.xml?…" in html
    assert "clave-secreta" not in html and "abc123" not in html
    assert "Aún no leído" in html


def test_a_manager_reads_a_feed_now(app, manager, tmp_path):
    with app.app_context():
        feed_id = feeds.create_feed(data={"name": "Portal", "location": feed_file(tmp_path, feed_jobs(3))}).id
    page = manager.get("/feeds").get_data(as_text=True)
    assert f'action="/feeds/{feed_id}/run"' in page and "Leer ahora" in page
    token = csrf_token(manager, "/feeds")
    response = manager.post(f"/feeds/{feed_id}/run", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/feeds"
    html = manager.get("/feeds").get_data(as_text=True)
    assert "Lectura en cola: «Portal»." in html and "flash-success" in html
    assert "A mano" in html  # the run it queued (run at once by the eager test queue)
    with app.app_context():
        run = db.session.scalar(select(FeedRun))
        assert (run.trigger, run.status, run.new) == ("manual", "succeeded", 3)
    assert manager.post("/feeds/999/run", data={"csrf_token": token}).status_code == 404


def test_reading_now_says_so_when_the_queue_is_down(app, manager, tmp_path, monkeypatch):
    with app.app_context():
        feed_id = feeds.create_feed(data={"name": "Portal", "location": feed_file(tmp_path, feed_jobs(2))}).id

    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("broker down")

    monkeypatch.setattr("adflux.services.task_queue.send", down)
    token = csrf_token(manager, "/feeds")
    response = manager.post(f"/feeds/{feed_id}/run", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "flash-error" in html
    assert "La cola de tareas no respondió, así que el feed no se leyó" in html


def test_reading_now_needs_the_manager_role_and_the_csrf_token(app, viewer, manager, tmp_path):
    with app.app_context():
        feed_id = feeds.create_feed(data={"name": "Portal", "location": feed_file(tmp_path, feed_jobs(2))}).id
    assert manager.post(f"/feeds/{feed_id}/run").status_code == 400
    refused = viewer.post(f"/feeds/{feed_id}/run", data={"csrf_token": csrf_token(viewer, "/feeds")})
    assert refused.status_code == 403
    with app.app_context():
        assert count(FeedRun) == 0


def test_a_manager_adds_a_feed_and_mistakes_are_explained_in_spanish(app, manager, viewer, tmp_path):
    token = csrf_token(manager, "/feeds")
    bad = manager.post(
        "/feeds",
        data={
            "csrf_token": token,
            "name": "x",
            "location": "empleos.xml",
            "format": "",
            "interval_minutes": "a",
        },
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "El feed no se agregó: revisa los campos marcados abajo." in html
    assert "Dale un nombre de 2 a 120 caracteres." in html
    assert "Una dirección http:// o https://, o la ruta completa de un archivo en el servidor." in html
    assert "Un número entero de minutos, de 1 a 10.080 (una semana)." in html
    assert 'value="empleos.xml"' in html  # what was typed is kept
    unknown_format = manager.post(
        "/feeds",
        data={
            "csrf_token": token,
            "name": "Portal",
            "location": "/srv/feeds/empleos",
            "interval_minutes": "15",
        },
    )
    assert unknown_format.status_code == 400 and "Elige el formato" in unknown_format.get_data(as_text=True)
    odd_number = manager.post(
        "/feeds",
        data={"csrf_token": token, "name": "Portal", "location": "/srv/e.xml", "interval_minutes": "²"},
    )
    assert odd_number.status_code == 400 and "Un número entero de minutos" in odd_number.get_data(
        as_text=True
    )
    with app.app_context():
        assert count(JobFeed) == 0

    location = feed_file(tmp_path, feed_jobs(1))
    good = {
        "csrf_token": token,
        "name": "Portal",
        "location": location,
        "format": "xml",
        "interval_minutes": "30",
    }
    added = manager.post("/feeds", data=good)
    assert added.status_code == 302
    assert "Feed «Portal» agregado; se leerá cada 30 minutos." in manager.get("/feeds").get_data(as_text=True)
    again = manager.post("/feeds", data=good)
    assert again.status_code == 409 and "Ya existe un feed con este nombre." in again.get_data(as_text=True)
    refused = viewer.post("/feeds", data={**good, "name": "Otro", "csrf_token": csrf_token(viewer, "/feeds")})
    assert refused.status_code == 403
    with app.app_context():
        feed = db.session.scalar(select(JobFeed))
        assert count(JobFeed) == 1 and (feed.format, feed.interval_minutes) == ("xml", 30)


def test_the_playbooks_page_reads_like_a_policy(app, viewer):
    with app.app_context():
        playbooks.create_playbook(
            data={
                "name": "Salud en Bogotá",
                "position": 10,
                "conditions": {"categories": ["salud"], "cities": ["Bogotá D.C."], "salary_min": 2_000_000},
                "platforms": ["meta", "google"],
                "budget_total": 1_023_000,
                "budget_daily": 45_000,
                "target_cpa": 30_000,
            }
        )
        playbooks.create_playbook(
            data={
                "name": "Con fórmula",
                "position": 20,
                "conditions": {"modalities": ["remoto"], "experience_min": 3},
                "platforms": ["tiktok"],
                "budget_formula": "salary_max * 0.5",
                "flight_days": 30,
                "requires_approval": True,
                "enabled": False,
            }
        )
    html = viewer.get("/playbooks").get_data(as_text=True)
    assert "Categoría: Salud · Ciudad: Bogotá D.C. · Salario desde $ 2.000.000" in html
    assert "Modalidad: Remoto · Experiencia desde 3 años" in html
    assert ">Meta</span>" in html and ">Google Ads</span>" in html and ">TikTok</span>" in html
    assert "$ 1.023.000" in html and "$ 45.000" in html and "$ 30.000" in html
    assert "fórmula: <code>salary_max * 0.5</code>" in html
    assert "hasta que cierre la oferta" in html and "30 días" in html
    assert "<dt>Audiencia</dt><dd>audiencia amplia</dd>" in html
    assert html.index("Salud en Bogotá") < html.index("Con fórmula")  # in the order they are tried


def test_a_manager_switches_a_playbook_off_and_on(app, manager, viewer):
    with app.app_context():
        playbook_id = playbooks.create_playbook(
            data={"name": "Todo", "platforms": ["meta"], "budget_total": 500_000}
        ).id
    assert "Desactivar" in manager.get("/playbooks").get_data(as_text=True)
    token = csrf_token(manager, "/playbooks")
    off = manager.post(f"/playbooks/{playbook_id}/enabled", data={"csrf_token": token, "enabled": "0"})
    html = manager.get(off.headers["Location"]).get_data(as_text=True)
    assert "Playbook «Todo» desactivado: no toma ofertas nuevas." in html
    assert "Activar" in html and "Inactivo" in html
    with app.app_context():
        assert db.session.get(Playbook, playbook_id).enabled is False
    on = manager.post(f"/playbooks/{playbook_id}/enabled", data={"csrf_token": token, "enabled": "1"})
    assert "Playbook «Todo» activado" in manager.get(on.headers["Location"]).get_data(as_text=True)
    weird = manager.post(f"/playbooks/{playbook_id}/enabled", data={"csrf_token": token, "enabled": "maybe"})
    assert weird.status_code == 400
    refused = viewer.post(
        f"/playbooks/{playbook_id}/enabled",
        data={"csrf_token": csrf_token(viewer, "/playbooks"), "enabled": "0"},
    )
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(Playbook, playbook_id).enabled is True


def test_a_dry_run_shows_what_a_playbook_would_take_and_spend(app, viewer, tmp_path):
    jobs = feed_jobs(12)
    with app.app_context():
        read_feed(tmp_path, jobs)  # no playbook yet: no campaign
        fixed = playbooks.create_playbook(
            data={
                "name": "Salud",
                "conditions": {"categories": ["Salud"]},
                "platforms": ["meta"],
                "budget_total": 300_000,
            }
        ).id
        formula = playbooks.create_playbook(
            data={
                "name": "Resto",
                "position": 200,
                "platforms": ["google"],
                "budget_formula": "salary_max * 0.5",
            }
        ).id
        assert count(Campaign) == 0
    health = [j for j in jobs if j["category"] == "salud"]
    html = viewer.get(f"/playbooks/{fixed}/dry-run").get_data(as_text=True)
    assert "Simulación: Salud" in html and "No se crea ni se publica nada." in html
    assert f'<div class="kpi-value">{len(health)}</div>' in html
    total = f"{300_000 * len(health):,}".replace(",", ".")
    assert f'<div class="kpi-value">$ {total}</div>' in html
    assert all(j["title"] in html for j in health)

    rest = [j for j in jobs if j["category"] != "salud"]
    html = viewer.get(f"/playbooks/{formula}/dry-run").get_data(as_text=True)
    without_salary = [j for j in rest if j["salary_max"] is None]
    assert f'<div class="kpi-value">{len(rest) - len(without_salary)}</div>' in html
    assert html.count("Sin presupuesto: la fórmula no da un valor para esta oferta") == len(without_salary)
    assert viewer.get("/playbooks/999/dry-run").status_code == 404
    with app.app_context():
        assert count(Campaign) == 0  # a dry run creates nothing


def test_a_disabled_playbook_s_dry_run_says_why_it_takes_nothing(app, viewer, tmp_path):
    with app.app_context():
        read_feed(tmp_path, feed_jobs(3))
        playbook_id = playbooks.create_playbook(
            data={"name": "Apagado", "platforms": ["meta"], "budget_total": 100_000, "enabled": False}
        ).id
    html = viewer.get(f"/playbooks/{playbook_id}/dry-run").get_data(as_text=True)
    assert "Este playbook está desactivado" in html and "no tomaría ninguna oferta abierta" in html


def test_the_approvals_page_lists_what_waits(app, viewer, tmp_path):
    with app.app_context():
        ids = pending_campaigns(tmp_path, 2)
        names = [db.session.get(Campaign, i).name for i in ids]
    html = viewer.get("/approvals").get_data(as_text=True)
    assert all(name in html for name in names)
    assert "Playbook: Revisar" in html and ">Meta</span>" in html and "$ 800.000" in html
    assert html.index(names[0]) < html.index(names[1])  # oldest first


def test_a_manager_rejects_with_a_reason_and_approves_another(app, manager, sandbox, tmp_path):
    with app.app_context():
        rejected_id, approved_id = pending_campaigns(tmp_path, 2)
    page = manager.get("/approvals").get_data(as_text=True)
    assert f'action="/approvals/{approved_id}/approve"' in page and 'name="reason" required' in page
    token = csrf_token(manager, "/approvals")

    empty = manager.post(f"/approvals/{rejected_id}/reject", data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 400
    assert "Escribe por qué se rechaza (de 3 a 500 caracteres)." in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, rejected_id).approval_status == "pending"

    reason = "Presupuesto alto para este cargo"
    rejected = manager.post(f"/approvals/{rejected_id}/reject", data={"csrf_token": token, "reason": reason})
    html = manager.get(rejected.headers["Location"]).get_data(as_text=True)
    assert "rechazada: no se publicará." in html
    approved = manager.post(f"/approvals/{approved_id}/approve", data={"csrf_token": token})
    html = manager.get(approved.headers["Location"]).get_data(as_text=True)
    assert "aprobada: la publicación comenzó." in html
    assert "Ninguna campaña espera aprobación." in html
    with app.app_context():
        no = db.session.get(Campaign, rejected_id)
        yes = db.session.get(Campaign, approved_id)
        assert (no.status, no.approval_status, no.approval_note) == ("archived", "rejected", reason)
        assert (yes.status, yes.approval_status) == ("active", "approved")

    # Deciding twice is explained, not an error page.
    again = manager.post(
        f"/approvals/{approved_id}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert "ya no espera aprobación." in again.get_data(as_text=True)
    assert manager.post("/approvals/999/approve", data={"csrf_token": token}).status_code == 404


def test_approving_and_rejecting_need_the_manager_role(app, viewer, manager, tmp_path):
    with app.app_context():
        [campaign_id] = pending_campaigns(tmp_path, 1)
    token = csrf_token(viewer, "/approvals")
    assert viewer.post(f"/approvals/{campaign_id}/approve", data={"csrf_token": token}).status_code == 403
    refused = viewer.post(
        f"/approvals/{campaign_id}/reject", data={"csrf_token": token, "reason": "No me gusta"}
    )
    assert refused.status_code == 403
    assert manager.post(f"/approvals/{campaign_id}/approve").status_code == 400  # no CSRF token
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.status, campaign.approval_status) == ("draft", "pending")


def test_english_on_request(app, viewer, tmp_path):
    with app.app_context():
        pending_campaigns(tmp_path, 1)
    viewer.post("/language", data={"locale": "en", "csrf_token": csrf_token(viewer, "/approvals")})
    html = viewer.get("/approvals").get_data(as_text=True)
    assert "Approvals" in html and "Automation" in html and "COP 800,000" in html
    assert "until the opening closes" in viewer.get("/playbooks").get_data(as_text=True)
