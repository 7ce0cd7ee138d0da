"""`adflux feeds …`, `adflux playbooks …` and `adflux approvals …`: through the API, in-process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adflux import embedded
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.simulation.portal_feed import render_xml
from feed_helpers import feed_jobs


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(server)
    yield server
    embedded.set_in_process_sandbox(None)
    server.stop()


def _job(ref: str | None, title: str, *, category: str = "Salud", city: str = "Bogotá") -> str:
    reference = f"<referencenumber>{ref}</referencenumber>" if ref else ""
    return (
        f"<job>{reference}<nombre_cargo>{title}</nombre_cargo><company>Clínica Andina</company>"
        f"<city>{city}</city><category>{category}</category><url>https://x.co/{ref}</url>"
        "<salary>$3.000.000 - $4.000.000</salary></job>"
    )


def _xml_feed(tmp_path: Path, jobs: list[str], name: str = "portal.xml") -> Path:
    path = tmp_path / name
    path.write_text(f"<source>{''.join(jobs)}</source>", encoding="utf-8")
    return path


def _json(cli: Any, *args: str) -> Any:
    result = cli("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def _add_feed(cli: Any, path: Path, name: str = "Portal") -> int:
    added = cli("feeds", "add", "--name", name, "--location", str(path), "--map", "title=nombre_cargo")
    assert added.exit_code == 0, added.output
    return int(re.search(r"Feed (\d+)", added.output).group(1))  # type: ignore[union-attr]


def test_add_list_run_and_remove_a_feed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _xml_feed(
        tmp_path,
        [_job("R1", "Enfermera jefe"), _job("R2", "Auxiliar de farmacia"), _job(None, "Sin referencia")],
    )
    added = cli(
        "feeds", "add", "--name", "Portal", "--location", str(path), "--interval", "30",
        "--map", "title=nombre_cargo", "--max-shrink", "0.4",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "xml" in added.output and "cada 30 min" in added.output
    [feed] = _json(cli, "feeds", "list")
    assert (feed["format"], feed["mapping"], feed["max_shrink"], feed["enabled"]) == (
        "xml",
        {"title": "nombre_cargo"},
        0.4,
        True,
    )
    listed = cli("feeds", "list")
    assert "Portal" in listed.output and str(path) in listed.output

    ran = cli("feeds", "run", str(feed["id"]))
    assert ran.exit_code == 0, ran.output
    assert "completada" in ran.output
    counts = dict(re.findall(r"^ ?([A-Z][a-z ]+?)\s+(\d+)\s*$", ran.output, re.MULTILINE))
    assert counts == {
        "Listadas": "3",
        "Nuevas": "2",
        "Cambiadas": "0",
        "Sin cambios": "0",
        "Cerradas": "0",
        "Reabiertas": "0",
        "Rechazadas": "1",
    }, ran.output
    assert "Filas rechazadas" in ran.output and "registro 3" in ran.output and "no reference" in ran.output

    jobs = _json(cli, "view-jobs", "--status", "open")
    assert sorted(j["title"] for j in jobs["items"]) == ["Auxiliar de farmacia", "Enfermera jefe"]
    assert {j["city"] for j in jobs["items"]} == {"Bogotá D.C."}

    again = _json(cli, "feeds", "run", str(feed["id"]))  # the same file: nothing to read again
    assert (again["status"], again["new"], again["unchanged"]) == ("unchanged", 0, 3)
    runs = _json(cli, "feeds", "runs", "--feed-id", str(feed["id"]))
    assert runs["total"] == 2 and [r["status"] for r in runs["items"]] == ["unchanged", "succeeded"]
    table = cli("feeds", "runs")
    assert table.exit_code == 0 and "sin cambios" in table.output and "manual" in table.output

    removed = cli("feeds", "remove", str(feed["id"]))
    assert removed.exit_code == 0 and "eliminado" in removed.output
    assert _json(cli, "feeds", "list") == []
    assert _json(cli, "view-jobs")["total"] == 2  # its openings stay
    assert "no existe" in _one_line_error(cli("feeds", "run", str(feed["id"])))


def test_bad_feeds_are_one_line_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = str(_xml_feed(tmp_path, [_job("R1", "Enfermera")]))
    unknown = cli("feeds", "add", "--name", "Malo", "--location", path, "--map", "puesto=cargo")
    assert "unknown field: puesto" in _one_line_error(unknown)
    bad_location = cli("feeds", "add", "--name", "Malo", "--location", "gopher://x/feed.xml")
    assert "location" in _one_line_error(bad_location)
    no_format = cli("feeds", "add", "--name", "Malo", "--location", "https://x.co/feed")
    assert "format" in _one_line_error(no_format)
    no_pair = cli("feeds", "add", "--name", "Malo", "--location", path, "--map", "title")
    assert "campo=nombre_en_el_feed" in _one_line_error(no_pair)
    assert _json(cli, "feeds", "list") == []
    assert "no existe" in _one_line_error(cli("feeds", "remove", "99"))
    off = _json(cli, "feeds", "add", "--name", "Apagado", "--location", path, "--disabled", "--format", "xml")
    assert off["enabled"] is False and "no" in cli("feeds", "list").output


def test_a_failed_run_exits_1_with_its_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed_id = _add_feed(cli, tmp_path / "missing.xml")
    failed = cli("feeds", "run", str(feed_id))
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    error_lines = [line for line in failed.output.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1 and "falló" in error_lines[0], failed.output
    assert "fallida" in failed.output
    [run] = _json(cli, "feeds", "runs")["items"]
    assert run["status"] == "failed" and run["error"] and run["new"] == 0

    (tmp_path / "broken.xml").write_text("<source><job><referencenumber>R1</referencenumber>", "utf-8")
    broken = cli("--json", "feeds", "run", str(_add_feed(cli, tmp_path / "broken.xml", "Roto")))
    assert broken.exit_code == 1
    printed = json.loads(broken.output[: broken.output.rindex("}") + 1])
    assert printed["status"] == "failed" and printed["error"]
    assert _json(cli, "view-jobs")["total"] == 0


def test_a_queued_run_is_followed_until_the_timeout(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from adflux.services import task_queue

    feed_id = _add_feed(cli, _xml_feed(tmp_path, [_job("R1", "Enfermera jefe")]))
    monkeypatch.setattr(task_queue, "send", lambda *args, **kwargs: None)  # a broker that never runs it
    waited = cli("feeds", "run", str(feed_id), "--timeout", "1")
    assert "sigue en cola" in _one_line_error(waited) and f"--feed-id {feed_id}" in waited.output
    [run] = _json(cli, "feeds", "runs", "--feed-id", str(feed_id))["items"]
    assert run["status"] == "queued"


def _seed_openings(cli: Any, tmp_path: Path) -> None:
    path = _xml_feed(
        tmp_path,
        [
            _job("S1", "Enfermera jefe"),
            _job("S2", "Auxiliar de enfermería"),
            _job("S3", "Médico general", city="Cali"),
            _job("V1", "Asesor comercial", category="Ventas"),
        ],
    )
    assert cli("feeds", "run", str(_add_feed(cli, path))).exit_code == 0


def test_playbooks_add_list_test_enable_disable_remove(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed_openings(cli, tmp_path)
    added = cli(
        "playbooks", "add", "--name", "Salud Bogotá", "--platforms", "meta,google",
        "--category", "salud", "--city", "Bogotá", "--salary-min", "1000000",
        "--budget-formula", "salary_max * 0.5", "--daily-budget", "50000", "--flight-days", "30",
        "--target-cpa", "40000", "--approval", "--position", "1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Playbook 1 guardado" in added.output
    rest = _json(
        cli, "playbooks", "add", "--name", "Resto", "--platforms", "x", "--budget", "500000",
        "--position", "5", "--objective", "leads",
    )  # fmt: skip
    listed = _json(cli, "playbooks", "list")
    assert [p["name"] for p in listed] == ["Salud Bogotá", "Resto"]
    first = listed[0]
    assert first["conditions"] == {"categories": ["salud"], "cities": ["Bogotá"], "salary_min": 1_000_000}
    assert (first["platforms"], first["budget_formula"], first["requires_approval"]) == (
        ["meta", "google"],
        "salary_max * 0.5",
        True,
    )
    assert (rest["budget_total"], rest["objective"], rest["platforms"]) == (500_000, "leads", ["x"])

    table = cli("playbooks", "list").output
    assert "Categoría: Salud · Ciudad: Bogotá · Salario desde $ 1.000.000" in table
    assert "fórmula: salary_max * 0.5" in table and "$ 500.000" in table and "$ 50.000" in table
    assert "30 días" in table and "hasta que cierre" in table and "Todas las ofertas" in table
    assert "Meta, Google Ads" in table

    dry = _json(cli, "playbooks", "test")
    by_name = {p["name"]: p for p in dry["playbooks"]}
    assert (by_name["Salud Bogotá"]["openings"], by_name["Salud Bogotá"]["budget_total"]) == (2, 4_000_000)
    assert (by_name["Resto"]["openings"], by_name["Resto"]["budget_total"]) == (2, 1_000_000)
    shown = cli("playbooks", "test", str(first["id"]))
    assert shown.exit_code == 0 and "$ 4.000.000" in shown.output and "Enfermera jefe" in shown.output
    assert "Asesor comercial" not in shown.output  # another playbook's opening

    disabled = cli("playbooks", "disable", str(first["id"]))
    assert disabled.exit_code == 0 and "desactivado" in disabled.output
    assert _json(cli, "playbooks", "list")[0]["enabled"] is False
    dry = _json(cli, "playbooks", "test")
    assert {p["name"]: p["openings"] for p in dry["playbooks"]} == {"Salud Bogotá": 0, "Resto": 4}
    assert "activado" in cli("playbooks", "enable", str(first["id"])).output
    assert _json(cli, "playbooks", "list")[0]["enabled"] is True

    assert "eliminado" in cli("playbooks", "remove", str(rest["id"])).output
    assert [p["name"] for p in _json(cli, "playbooks", "list")] == ["Salud Bogotá"]
    assert "no existe" in _one_line_error(cli("playbooks", "enable", str(rest["id"])))


def test_bad_playbooks_are_one_line_errors(cli) -> None:  # type: ignore[no-untyped-def]
    base = ("playbooks", "add", "--name", "Malo", "--platforms", "meta")
    category = cli(*base, "--category", "Astronautas", "--budget", "500000")
    assert "unknown category 'Astronautas'" in _one_line_error(category)
    formula = cli(*base, "--budget-formula", "salario * 2")
    assert "unknown name 'salario'" in _one_line_error(formula)
    nothing_computes = cli(*base, "--budget-formula", "salary_max - salary_max")
    assert "fórmula del presupuesto" in _one_line_error(nothing_computes)
    assert "--budget" in _one_line_error(cli(*base))
    both = cli(*base, "--budget", "500000", "--budget-formula", "salary")
    assert "--budget" in _one_line_error(both)
    platform = cli("playbooks", "add", "--name", "Malo", "--platforms", "myspace", "--budget", "500000")
    assert "plataformas desconocidas: myspace" in _one_line_error(platform)
    assert _json(cli, "playbooks", "list") == []


def test_approvals_list_reject_and_approve(cli, tmp_path: Path, sandbox: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    assert cli("playbooks", "add", "--name", "Revisar", "--platforms", "meta", "--budget", "800000",
               "--approval").exit_code == 0  # fmt: skip
    path = tmp_path / "portal.xml"
    path.write_bytes(render_xml(feed_jobs(3)))
    feed = _json(cli, "feeds", "add", "--name", "Portal", "--location", str(path))
    assert cli("feeds", "run", str(feed["id"])).exit_code == 0

    pending = _json(cli, "approvals")
    assert pending["total"] == 3 and {c["approval_status"] for c in pending["items"]} == {"pending"}
    assert {c["status"] for c in pending["items"]} == {"draft"}
    first, second = pending["items"][0]["id"], pending["items"][1]["id"]
    table = cli("approvals")
    assert table.exit_code == 0 and "Campañas por aprobar" in table.output
    assert "Meta" in table.output and "$ 800.000" in table.output
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", table.output)

    empty = cli("approvals", "reject", str(first), "--reason", "")
    assert "reason" in _one_line_error(empty)
    blank = cli("approvals", "reject", str(first), "--reason", "     ")
    assert _one_line_error(blank)
    assert _json(cli, "campaign", "show", str(first))["approval_status"] == "pending"
    rejected = cli("approvals", "reject", str(first), "--reason", "Presupuesto alto para este cargo")
    assert rejected.exit_code == 0 and "rechazada" in rejected.output
    campaign = _json(cli, "campaign", "show", str(first))
    assert (campaign["status"], campaign["approval_status"], campaign["approval_note"]) == (
        "archived",
        "rejected",
        "Presupuesto alto para este cargo",
    )

    approved = cli("approvals", "approve", str(second))
    assert approved.exit_code == 0, approved.output
    assert "activa" in approved.output
    campaign = _json(cli, "campaign", "show", str(second))
    assert (campaign["status"], campaign["approval_status"]) == ("active", "approved")
    assert campaign["platform_campaigns"][0]["external_campaign_id"]
    assert "no está esperando aprobación" in _one_line_error(cli("approvals", "approve", str(second)))
    assert [c["id"] for c in _json(cli, "approvals")["items"]] == [pending["items"][2]["id"]]
