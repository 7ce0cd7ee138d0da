"""The audit trail page: admins read who changed what, when, before and after, with filters.

Changes are made through the real API (an admin's token), so the page shows what the services
recorded, not rows written for the test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from adflux.extensions import db
from adflux.models import AuditEvent
from adflux.services import dashboard
from factories import job_data

HOSTILE = '<script>alert("x")</script>'


def _rows(html: str) -> list[str]:
    """The audit table's rows (the text of each <tr data-event-id>), newest first."""
    return re.findall(r'<tr data-event-id="\d+">(.*?)</tr>\s*(?=<tr data-event-id|</tbody>)', html, re.S)


@pytest.fixture
def admin(web_as):
    return web_as("admin")


@pytest.fixture
def changes(client):
    """A job created and edited, and a second job created, by an admin through the API."""
    first = client.post("/api/v1/jobs", json=job_data(title="Analista de datos", salary_max=9_500_000))
    assert first.status_code == 201
    job_id = first.get_json()["id"]
    patched = client.patch(f"/api/v1/jobs/{job_id}", json={"salary_max": 12_000_000, "title": HOSTILE})
    assert patched.status_code == 200
    second = client.post("/api/v1/jobs", json=job_data(title="Enfermera jefe"))
    assert second.status_code == 201
    actor = client.get("/api/v1/me").get_json()["email"]
    return {"job_id": job_id, "other_id": second.get_json()["id"], "actor": actor}


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_only_admins_see_the_audit_trail(web_as, role):
    client = web_as(role)
    assert client.get("/audit").status_code == 403
    assert 'href="/audit"' not in client.get("/").get_data(as_text=True)


def test_anonymous_people_are_sent_to_sign_in(anon_client):
    response = anon_client.get("/audit")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_an_admin_reads_who_changed_what_with_before_and_after(admin, changes):
    html = admin.get("/audit").get_data(as_text=True)
    assert 'href="/audit" aria-current="page"' in html  # in the menu, marked as here
    rows = _rows(html)
    assert len(rows) == 4 and "4 cambios" in html
    newest, edit, created, signed_in = rows
    assert "auth.login" in signed_in  # the admin's own sign-in to the dashboard
    assert "job.create" in newest and f"job {changes['other_id']}" in newest
    assert "job.update" in edit and changes["actor"] in edit
    # The edit lists only what changed, old value struck out, new value after it.
    assert re.search(
        r'<span class="before">9500000</span>\s*<span class="arrow">→</span>\s*'
        r'<span class="after">12000000</span>',
        edit,
    )
    assert '<span class="before">Analista de datos</span>' in edit
    assert "<code>city</code>" not in edit
    # A creation lists what the entity was created with, nothing struck out.
    assert "<code>city</code>" in created and 'class="before"' not in created
    # What people typed is shown as text, never as markup.
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html


def test_filters_narrow_the_list_and_survive_paging(app, admin, changes):
    by_entity = admin.get(f"/audit?entity_type=job&entity_id={changes['job_id']}").get_data(as_text=True)
    assert len(_rows(by_entity)) == 2
    assert len(_rows(admin.get("/audit?action=job.update").get_data(as_text=True))) == 1
    assert len(_rows(admin.get("/audit?action=job.*").get_data(as_text=True))) == 3
    assert len(_rows(admin.get(f"/audit?actor={changes['actor']}").get_data(as_text=True))) == 3
    nobody = admin.get("/audit?actor=nadie@portal.test").get_data(as_text=True)
    assert _rows(nobody) == [] and "Ningún cambio coincide con estos filtros." in nobody
    # Days are Bogotá days: an event at 23:30 Bogotá time (04:30 UTC the next day) is on its day.
    with app.app_context():
        late = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
        db.session.add(AuditEvent(action="job.close", entity_type="job", entity_id="1", actor="x@y", at=late))
        for n in range(30):
            db.session.add(
                AuditEvent(action="user.update", entity_type="user", entity_id=str(n), actor="a@b")
            )
        db.session.commit()
    on_day = admin.get("/audit?since=2026-03-09&until=2026-03-09").get_data(as_text=True)
    assert len(_rows(on_day)) == 1 and "job.close" in on_day
    assert _rows(admin.get("/audit?since=2026-03-10&until=2026-03-10").get_data(as_text=True)) == []
    # 30 events, 25 a page: the next page keeps the filter.
    first = admin.get("/audit?action=user.update").get_data(as_text=True)
    assert len(_rows(first)) == 25 and 'href="/audit?page=2&amp;action=user.update"' in first
    second = admin.get("/audit?page=2&action=user.update").get_data(as_text=True)
    assert len(_rows(second)) == 5 and all("user.update" in row for row in _rows(second))


@pytest.mark.parametrize(
    "query, message",
    [
        ("since=ayer", "«ayer» no es una fecha"),
        ("until=9999-12-31", "«9999-12-31» no es una fecha"),
        ("since=2026-02-30", "«2026-02-30» no es una fecha"),
        ("actor=" + "a" * 121, "Ese filtro es demasiado largo (máximo 120 caracteres)."),
    ],
)
def test_a_filter_that_cannot_be_used_is_said_and_left_out(admin, changes, query, message):
    response = admin.get(f"/audit?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and len(_rows(html)) == 4  # the three changes and the sign-in


def test_an_unknown_entity_type_is_ignored(admin, changes):
    html = admin.get(f"/audit?entity_type={HOSTILE}").get_data(as_text=True)
    assert len(_rows(html)) == 4 and HOSTILE not in html


def test_an_empty_trail_says_so(app, admin):
    with app.app_context():
        db.session.query(AuditEvent).delete()  # the admin's sign-in
        db.session.commit()
    html = admin.get("/audit").get_data(as_text=True)
    assert "Aún no hay cambios registrados." in html


def test_changes_are_the_fields_that_differ_with_long_values_cut(app_ctx):
    event = AuditEvent(
        action="x.update",
        entity_type="x",
        actor="a@b",
        before={"same": 1, "gone": "old", "n": 1, "nested": {"a": [1, 2]}},
        after={"same": 1, "n": 2, "new": "x" * 500, "nested": {"a": [1, 3]}, "end": None},
    )
    got = {c.field: (c.before, c.after) for c in dashboard.audit_changes(event)}
    assert set(got) == {"gone", "n", "new", "nested", "end"}
    assert got["end"] == (None, "—")
    assert got["gone"] == ("old", None) and got["n"] == ("1", "2")
    assert got["nested"] == ('{"a": [1, 2]}', '{"a": [1, 3]}')
    assert got["new"][0] is None and len(got["new"][1]) == dashboard.AUDIT_VALUE_CHARS
    assert got["new"][1].endswith("…")
    assert dashboard.audit_changes(AuditEvent(action="a", entity_type="b", actor="c")) == []


def test_entity_types_are_each_kind_once_alphabetically(app_ctx):
    # Read by a skip scan of the (entity_type, entity_id) index since issue 25: every kind, once.
    for kind in ["user", "job", "campaign", "job", "user", "campaign", "job"]:
        db.session.add(AuditEvent(action=f"{kind}.update", entity_type=kind, entity_id="1", actor="a@b"))
    db.session.commit()
    assert dashboard.audit_entity_types() == ["campaign", "job", "user"]
    db.session.query(AuditEvent).delete()
    db.session.commit()
    assert dashboard.audit_entity_types() == []
