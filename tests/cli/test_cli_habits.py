"""The command line as people type it: --json anywhere, Spanish names for codes, searches that
ignore accents and case, and tables that never split a word in an 80-column terminal."""

from __future__ import annotations

import json
import re

import pytest
from rich.console import Console

from adflux.services import jobs as jobs_service
from factories import make_candidate, make_job


def _ids(result) -> list[int]:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return [item["id"] for item in json.loads(result.output)["items"]]


def test_json_may_come_before_or_after_the_verb(cli, app_ctx):
    make_job(city="Cali", department="Valle del Cauca")
    before = cli("--json", "view-jobs", "--city", "Cali")
    after = cli("view-jobs", "--city", "Cali", "--json")
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.output) == json.loads(after.output)
    assert json.loads(after.output)["total"] == 1


def test_a_city_matches_without_accents_case_or_the_d_c(cli, app_ctx):
    bogota = make_job(city="Bogotá D.C.", department="Bogotá D.C.").id
    medellin = make_job(city="Medellín", department="Antioquia").id
    make_job(city="Cali", department="Valle del Cauca")
    for typed in ("Bogotá", "bogota", "BOGOTÁ D.C.", "Bogota D.C."):
        assert _ids(cli("--json", "view-jobs", "--city", typed)) == [bogota], typed
    for typed in ("medellin", "Medellín", "MEDELLIN"):
        assert _ids(cli("--json", "view-jobs", "--city", typed)) == [medellin], typed
    assert _ids(cli("--json", "view-jobs", "--city", "Pasto")) == []


def test_candidates_city_filter_is_as_forgiving(cli, app_ctx):
    make_candidate(city="Bogotá D.C.", department="Bogotá D.C.")
    other = make_candidate(city="Medellín", department="Antioquia").id
    assert _ids(cli("--json", "view-candidates", "--city", "medellin")) == [other]


def test_text_search_ignores_accents_case_and_gender_endings(cli, app_ctx):
    nurse = make_job(title="Enfermero jefe de urgencias").id
    aide = make_job(title="Auxiliar de enfermería").id
    sales = make_job(title="Vendedora de mostrador", company="Almacenes Éxito").id
    assert _ids(cli("--json", "view-jobs", "-q", "enfermera")) == [aide, nurse]  # newest first
    assert _ids(cli("--json", "view-jobs", "-q", "ENFERMERIA")) == [aide]
    assert _ids(cli("--json", "view-jobs", "-q", "vendedor exito")) == [sales]
    assert _ids(cli("--json", "view-jobs", "-q", "enfermero vendedor")) == []  # every word must match
    assert _ids(cli("--json", "view-jobs", "-q", "100%_x")) == []  # LIKE wildcards are literal
    assert _ids(cli("--json", "view-jobs", "-q", "\U000f4f14")) == []  # nothing a fold keeps


@pytest.mark.parametrize(
    ("option", "typed", "code"),
    [
        ("--modality", "híbrido", "hibrido"),
        ("--modality", "HIBRIDO", "hibrido"),
        ("--category", "Logística y transporte", "logistica_transporte"),
        ("--category", "logistica_transporte", "logistica_transporte"),
        ("--status", "cerrada", "closed"),
        ("--status", "closed", "closed"),
    ],
)
def test_options_take_the_spanish_name_or_the_code(cli, app_ctx, option, typed, code):
    job = make_job(modality="hibrido", category="logistica_transporte")
    jobs_service.close_job(job_id=job.id)
    make_job(modality="remoto", category="salud")
    assert _ids(cli("--json", "view-jobs", option, typed)) == [job.id]


def test_campaign_status_takes_the_name_tables_show(cli, app_ctx):
    job = make_job()
    created = cli(
        "--json", "create-campaign", "--job-id", str(job.id), "--platforms", "meta", "--budget", "3000000"
    )
    assert created.exit_code == 0, created.output
    campaign_id = json.loads(created.output)["id"]
    assert _ids(cli("--json", "view-campaigns", "--status", "borrador")) == [campaign_id]
    assert _ids(cli("--json", "view-campaigns", "--status", "Parcialmente activa")) == []


def test_a_wrong_choice_is_one_spanish_line_listing_the_names(cli):
    result = cli("view-jobs", "--modality", "flotante")
    assert result.exit_code == 2
    assert "«flotante» no es una opción; use una de: Presencial, Remoto, Híbrido" in result.output


LONG_JOBS = [
    dict(title="Coordinador de logística y transporte", company="Transportes del Norte S.A.S.",
         city="Barranquilla", department="Atlántico", category="logistica_transporte"),
    dict(title="Auxiliar de enfermería", company="Clínica Santa María de los Ángeles",
         city="Bogotá D.C.", department="Bogotá D.C.", category="salud", modality="presencial"),
    dict(title="Especialista en ciberseguridad", company="Bancolombia",
         city="Medellín", department="Antioquia"),
]  # fmt: skip


def _words_whole(output: str, texts: list[str]) -> list[str]:
    tokens = set(re.findall(r"[^\s│]+", output))
    return [word for text in texts for word in text.split() if word not in tokens]


@pytest.fixture
def terminal_80(monkeypatch):  # type: ignore[no-untyped-def]
    from adflux.cli import output

    monkeypatch.setattr(output, "console", Console(width=80, color_system=None))


def test_job_table_at_80_columns_splits_no_word(cli, app_ctx, terminal_80):
    for job in LONG_JOBS:
        make_job(**job)
    table = cli("view-jobs")
    assert table.exit_code == 0
    assert max(len(line) for line in table.output.splitlines()) <= 80
    shown = [job[key] for job in LONG_JOBS for key in ("title", "city")]
    assert _words_whole(table.output, [*shown, "abierta", "$ 6.000.000 – $ 9.000.000"]) == []
    assert "sin Modalidad, Empresa, Categoría" in table.output  # what did not fit is named
    wide = cli("view-jobs", "--city", "barranquilla")
    assert "Logística y" in wide.output and "logistica_transporte" not in wide.output  # labels, not codes


def test_table_headers_follow_the_language(cli, app_ctx, monkeypatch):
    from adflux.cli import output

    monkeypatch.setattr(output, "console", Console(width=200, color_system=None))
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")  # restored after the test, whatever --lang sets
    make_job(**LONG_JOBS[0])
    header = "ID  Título  Empresa  Ciudad  Categoría  Modalidad  Salario  Estado"
    spanish = cli("view-jobs").output
    assert _words_whole(spanish, [header]) == [] and "Title" not in spanish
    english = cli("--lang", "en", "view-jobs").output
    assert _words_whole(english, ["ID Title Company City Category Modality Salary Status"]) == []
    assert "Título" not in english and "Empresa" not in english
    # The cells' names follow too: category and status in English, in Spanish by default.
    assert "Logistics and transport" in english and "Logística" not in english and " open " in english
    assert "Logística y transporte" in spanish and " abierta " in spanish and "Logistics" not in spanish
    monkeypatch.setattr(output, "console", Console(width=80, color_system=None))
    narrow = cli("--lang", "en", "view-jobs").output
    assert "without Modality" in narrow and "sin Modalidad" not in narrow  # the caption too


def test_candidate_table_at_80_columns_splits_no_word(cli, app_ctx, terminal_80):
    make_candidate(city="Barranquilla", department="Atlántico", education_level="especializacion",
                   desired_category="contabilidad_finanzas")  # fmt: skip
    table = cli("view-candidates")
    assert table.exit_code == 0
    assert max(len(line) for line in table.output.splitlines()) <= 80
    assert _words_whole(table.output, ["Barranquilla", "Especialización"]) == []


def test_nested_field_errors_read_as_words_not_python(cli, app_ctx):
    job = make_job()
    result = cli(
        "create-campaign", "--job-id", str(job.id), "--platforms", "meta,facebook", "--budget", "100000"
    )
    assert result.exit_code != 0
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert "platforms, elemento 2: Debe ser uno de estos" in line
    assert "{" not in line and "[" not in line


def test_times_are_bogota_wall_time_everywhere(cli, app_ctx):
    from adflux.cli.output import bogota_time

    assert bogota_time("2026-12-06T14:05:00+00:00") == "2026-12-06 09:05"
    assert bogota_time(None) == "—"
    make_job(title="Cajero")
    audit = cli("audit").output
    assert "Cuándo (Bogotá)" in audit and "UTC" not in audit


def test_candidates_page_on_by_the_cursor_the_caption_shows(cli, app_ctx):
    made = [make_candidate().id for _ in range(5)]
    first = cli("view-candidates", "--page-size", "2")
    cursor = re.search(r"--cursor (\S+)", first.output).group(1)
    second = json.loads(cli("--json", "view-candidates", "--page-size", "2", "--cursor", cursor).output)
    assert [item["id"] for item in second["items"]] == made[2:4] and second["page"] is None
    assert "siguiente tramo" in cli("view-candidates", "--page-size", "2", "--cursor", cursor).output


def test_audit_times_typed_without_a_zone_are_bogota(cli, app_ctx):
    make_job(title="Cajero")
    # An event made now (after 19:00 UTC the Bogotá date is still today) is after Bogotá's
    # yesterday and before Bogotá's tomorrow, whatever the hour in UTC.
    from adflux.services.local_dates import today

    day = today()
    found = json.loads(cli("--json", "audit", "--since", str(day)).output)
    assert found["total"] >= 1
    later = json.loads(cli("--json", "audit", "--since", f"{day}T23:59:59").output)
    assert later["total"] == 0
    bad = cli("audit", "--since", "ayer")
    assert bad.exit_code == 2 and "no es una fecha" in bad.output


def test_the_language_is_chosen_before_anything_speaks_wherever_lang_is_typed(cli, app_ctx, monkeypatch):
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")  # restored after the test, whatever --lang sets
    for args in (
        ["--help", "--lang", "en"],
        ["view-jobs", "--help", "--lang", "en"],
        ["view-jobs", "--lang=en", "--help"],
    ):
        shown = cli(*args)
        assert shown.exit_code == 0, shown.output
        assert (
            shown.output.startswith("Usage: ")
            and "Options:" in shown.output
            and "Opciones" not in shown.output
        )
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")
    assert cli("view-jobs", "--help").output.startswith("Uso: ")
    refused = cli("view-jobs", "--lang", "xx")
    assert refused.exit_code == 2
    assert "'xx' no es ninguno de 'en'" in refused.output and "is not one of" not in refused.output
