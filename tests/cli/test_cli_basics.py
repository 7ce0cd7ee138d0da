"""The adflux command line: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json

from factories import job_data, make_candidate, make_job


def test_view_jobs_prints_a_table(cli, app_ctx):
    make_job(title="Enfermera jefe", city="Pereira", department="Risaralda", category="salud")
    result = cli("view-jobs")
    assert result.exit_code == 0
    assert "Enfermera jefe" in result.output and "Pereira" in result.output


def test_view_jobs_json_is_machine_readable(cli, app_ctx):
    make_job(city="Cali", department="Valle del Cauca")
    make_job(city="Bogotá")
    result = cli("--json", "view-jobs", "--city", "Cali")
    assert result.exit_code == 0
    page = json.loads(result.output)
    assert page["total"] == 1 and page["items"][0]["city"] == "Cali"


def test_view_candidates_with_unknown_segment_is_a_one_line_error(cli):
    result = cli("view-candidates", "--segment-id", "77")
    assert result.exit_code != 0
    assert result.output.strip() == "Error: El segmento 77 no existe"


def test_view_candidates_lists_them(cli, app_ctx):
    make_candidate(city="Manizales", department="Caldas")
    result = cli("--json", "view-candidates")
    assert json.loads(result.output)["items"][0]["city"] == "Manizales"


def test_bad_option_value_exits_non_zero(cli):
    result = cli("view-jobs", "--modality", "flotante")
    assert result.exit_code == 2 and "flotante" in result.output


def test_import_jobs_reports_rejected_rows_and_exits_2(cli, tmp_path, app_ctx):
    file = tmp_path / "jobs.json"
    file.write_text(json.dumps([job_data(), job_data(category="nope")]))
    result = cli("import-jobs", str(file))
    assert result.exit_code == 2
    assert "creados: 1" in result.output and "rechazados: 1" in result.output and "record 2" in result.output


def test_import_of_a_broken_file_is_a_one_line_error(cli, tmp_path):
    file = tmp_path / "jobs.json"
    file.write_text("[{oops")
    result = cli("import-jobs", str(file))
    assert result.exit_code == 1
    assert result.output.startswith("Error: The file is not valid JSON")
    assert len(result.output.strip().splitlines()) == 1


def test_remote_api_that_is_down_is_a_one_line_error(cli):
    result = cli("--api-url", "http://127.0.0.1:9", "view-jobs")
    assert result.exit_code == 1
    assert result.output.startswith("Error: No se puede conectar con la API de AdFlux")


def test_campaign_tables_name_statuses_in_spanish_and_json_keeps_the_codes(cli, app_ctx):
    job = make_job(title="Auxiliar contable", city="Cali", department="Valle del Cauca")
    created = cli(
        "--json",
        "create-campaign",
        "--job-id",
        str(job.id),
        "--platforms",
        "meta,google",
        "--budget",
        "3000000",
    )
    assert created.exit_code == 0, created.output
    campaign_id = json.loads(created.output)["id"]
    listed = cli("view-campaigns")
    assert "borrador" in listed.output and "Meta: pendiente" in listed.output
    assert "draft" not in listed.output
    shown = cli("campaign", "show", str(campaign_id))
    assert "estado borrador" in shown.output
    page = json.loads(cli("--json", "view-campaigns", "--status", "draft").output)
    assert page["items"][0]["status"] == "draft"
    assert {p["status"] for p in page["items"][0]["platform_campaigns"]} == {"pending"}
