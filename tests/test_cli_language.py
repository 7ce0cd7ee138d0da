"""Help, Click's own words and marshmallow's messages in Spanish by default and English on request:
`adflux --help` and `view-jobs --help` at 80 columns, a wrong option, and an API 422 for a missing
field. The lists of Click's and marshmallow's messages still cover the installed libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import marshmallow.fields
import marshmallow.validate
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from adflux.catalogue import translations
from adflux.cli import main
from adflux.cli.choices import (
    CATEGORY,
    CATEGORY_NAMES_EN,
    EDUCATION_NAMES_EN,
    MODALITY,
    MODALITY_NAMES_EN,
    OBJECTIVE,
    ROLE,
    SEVERITY,
    STATUS_NAMES_EN,
    statuses,
)
from adflux.cli.click_words import CLICK_MESSAGES
from adflux.constants import EDUCATION_LABELS, JOB_CATEGORY_LABELS, MODALITY_LABELS, STATUS_NAMES_ES
from adflux.schemas.messages import MARSHMALLOW_MESSAGES, Deferred

CLICK_DIR = Path(sys.modules["click"].__file__).parent  # type: ignore[arg-type]


@pytest.fixture
def terminal(monkeypatch):  # type: ignore[no-untyped-def]
    """`adflux ...` as typed in an 80-column terminal, in the language of ADFLUX_LANG (unset: Spanish)."""
    # Set (not deleted) so that monkeypatch restores it after the test, whatever --lang sets meanwhile.
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), prog_name="adflux", terminal_width=80)

    return run


def test_adflux_help_is_spanish_by_default_and_english_with_lang_en(terminal):
    spanish = terminal("--help")
    assert spanish.exit_code == 0, spanish.output
    assert spanish.output.startswith("Uso: adflux [OPCIONES] COMANDO [ARGUMENTOS]...")
    for words in ("AdFlux: anuncie ofertas de empleo", "Opciones:", "Comandos:",
                  "Mostrar este mensaje y salir.", "Imprimir JSON para scripts en vez de tablas.",
                  "Listar las ofertas de empleo."):  # fmt: skip
        assert words in spanish.output, words
    assert "Show this message" not in spanish.output and "Options:" not in spanish.output
    wrong = terminal("campaign", "show")  # the usage line of an error too
    assert "Uso: adflux campaign show [OPCIONES] CAMPAIGN_ID" in wrong.output
    assert max(len(line) for line in spanish.output.splitlines()) <= 80

    english = terminal("--lang", "en", "--help")
    assert english.exit_code == 0
    assert english.output.startswith("Usage: adflux [OPTIONS] COMMAND [ARGS]...")
    for words in ("AdFlux: advertise job openings", "Options:", "Commands:", "Show this message and exit.",
                  "List job openings."):  # fmt: skip
        assert words in english.output, words
    assert "Opciones" not in english.output
    assert terminal("--version").output.startswith("adflux, version ")  # --lang en is kept (ADFLUX_LANG)
    assert terminal("--lang", "es", "--version").output.startswith("adflux, versión ")


def test_view_jobs_help_follows_lang_and_adflux_lang(terminal, monkeypatch):
    spanish = terminal("view-jobs", "--help")
    assert spanish.exit_code == 0
    assert spanish.output.startswith("Uso: adflux view-jobs [OPCIONES]")
    assert "Listar las ofertas de empleo." in spanish.output
    assert (
        "  -q, --search TEXTO              Búsqueda de texto en cargo, empresa y\n" in spanish.output
    )  # 80 col.
    english = terminal("--lang", "en", "view-jobs", "--help")
    assert "List job openings." in english.output and "Text search in title, company" in english.output
    monkeypatch.setenv("ADFLUX_LANG", "en")
    assert terminal("view-jobs", "--help").output.startswith("Usage: adflux view-jobs")
    # The language is chosen when the help is shown, not when the CLI was imported.
    assert terminal("--lang", "es", "view-jobs", "--help").output.startswith("Uso: adflux view-jobs")


def test_clicks_own_errors_speak_the_language(terminal):
    spanish = terminal("view-jobs", "--no-such-thing")
    assert spanish.exit_code == 2
    assert "Error: No existe la opción '--no-such-thing'." in spanish.output
    assert "Pruebe 'adflux view-jobs --help' para ver la ayuda." in spanish.output
    missing = terminal("campaign", "show")
    assert missing.exit_code == 2 and "Error: Falta un argumento 'CAMPAIGN_ID'." in missing.output
    wrong = terminal("view-jobs", "--page", "cero")
    assert "Error: Valor no válido para '--page': 'cero' no es un número entero válido." in wrong.output
    english = terminal("--lang", "en", "view-jobs", "--no-such-thing")
    assert "Error: No such option '--no-such-thing'." in english.output
    wrong = terminal("view-jobs", "--page", "cero")  # --lang en is kept (ADFLUX_LANG) for what follows
    assert "Error: Invalid value for '--page': 'cero' is not a valid integer range." in wrong.output


def test_the_api_says_a_missing_field_in_spanish_or_in_english(client):
    spanish = client.post("/api/v1/jobs", json={"title": "Enfermero"})
    assert spanish.status_code == 422
    body = spanish.get_json()
    assert body["message"] == "La solicitud no es válida; vea los errores de cada campo."
    assert body["errors"]["company"] == ["Falta este dato obligatorio."]
    english = client.post("/api/v1/jobs", json={"title": "Enfermero"}, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert english.get_json()["errors"]["company"] == ["Missing data for required field."]
    assert english.get_json()["message"] == "The request is invalid; see errors for each field."


def test_marshmallow_messages_with_values_and_unformatted_ones(client):
    body = {"title": "Enfermero", "salary_min": "mucho", "sin_campo": 1}
    answer = client.post("/api/v1/jobs", json=body).get_json()["errors"]
    assert answer["salary_min"] == ["No es un número entero válido."]
    assert answer["sin_campo"] == ["Campo desconocido."]  # marshmallow stores this one unformatted
    english = client.post("/api/v1/jobs", json=body, headers={"Accept-Language": "en"}).get_json()["errors"]
    assert english["salary_min"] == ["Not a valid integer."] and english["sin_campo"] == ["Unknown field."]


def test_range_and_choice_messages_fill_in_translated_words(monkeypatch):
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")
    with pytest.raises(marshmallow.ValidationError) as spanish:
        marshmallow.validate.Range(min=1, max=5)(9)
    assert spanish.value.messages == ["Debe ser mayor o igual que 1 y menor o igual que 5."]
    monkeypatch.setenv("ADFLUX_LANG", "en")
    with pytest.raises(marshmallow.ValidationError) as english:
        marshmallow.validate.Range(min=1, max=5)(9)
    assert english.value.messages == ["Must be greater than or equal to 1 and less than or equal to 5."]
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")
    with pytest.raises(marshmallow.ValidationError) as choice:
        marshmallow.validate.OneOf(["meta", "google"])("facebook")
    assert choice.value.messages == ["Debe ser uno de estos: meta, google."]


def test_every_marshmallow_message_is_deferred_and_in_the_catalogue():
    found = {m for cls in vars(marshmallow.fields).values() if isinstance(cls, type)
             for m in cls.__dict__.get("default_error_messages", {}).values()}  # fmt: skip
    found |= {m for cls in vars(marshmallow.validate).values() if isinstance(cls, type)
              for name, m in cls.__dict__.items()
              if name.startswith(("message", "default_message")) and isinstance(m, str)}  # fmt: skip
    assert found and all(isinstance(m, Deferred) for m in found)
    assert {str(m) for m in found} - set(MARSHMALLOW_MESSAGES) == set()
    spanish = translations("es_CO")
    assert all(spanish.gettext(m) != m for m in MARSHMALLOW_MESSAGES)


def test_click_words_cover_every_message_of_the_installed_click(tmp_path):
    pot = tmp_path / "click.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--no-location", "-o", str(pot),
         str(CLICK_DIR)],
        check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        clicks = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    ours = Path(sys.modules["adflux.cli.click_words"].__file__).read_text(encoding="utf-8")  # type: ignore[arg-type]
    missing = sorted(m for m in clicks if json.dumps(m)[1:-1] not in ours and repr(m)[1:-1] not in ours)
    assert missing == [], "add these to adflux/cli/click_words.py and translate them"
    assert len(CLICK_MESSAGES) > 50


def test_option_values_show_in_the_language_and_are_accepted_in_both(terminal, monkeypatch):
    spanish = terminal("view-jobs", "--help").output
    assert "--status [abierta|cerrada]" in spanish and "--modality [Presencial|Remoto|Híbrido]" in spanish
    english = terminal("--lang", "en", "view-jobs", "--help").output
    assert "--status [open|closed]" in english and "--modality [On-site|Remote|Hybrid]" in english
    assert "abierta" not in english and "Presencial" not in english
    for lang in ("es_CO", "en"):
        monkeypatch.setenv("ADFLUX_LANG", lang)
        for typed in ("logistica_transporte", "Logística y transporte", "LOGISTICA Y TRANSPORTE",
                      "Logistics and transport", "logistics  and transport"):  # fmt: skip
            assert CATEGORY.convert(typed, None, None) == "logistica_transporte", (lang, typed)
        assert MODALITY.convert("hybrid", None, None) == MODALITY.convert("híbrido", None, None) == "hibrido"
        assert statuses(["partially_active"]).convert("Partially Active", None, None) == "partially_active"
        assert ROLE.convert("consulta", None, None) == ROLE.convert("lector", None, None) == "viewer"
    wrong = terminal("--lang", "en", "view-jobs", "--modality", "flotante")
    assert wrong.exit_code == 2 and "use one of: On-site, Remote, Hybrid" in wrong.output
    wrong = terminal("--lang", "es", "view-jobs", "--modality", "floating")
    assert "use una de: Presencial, Remoto, Híbrido" in wrong.output


def test_english_choice_names_translate_to_the_spanish_names_tables_show():
    spanish = translations("es_CO")
    tables = [(STATUS_NAMES_EN, STATUS_NAMES_ES), (CATEGORY_NAMES_EN, JOB_CATEGORY_LABELS),
              (EDUCATION_NAMES_EN, EDUCATION_LABELS), (MODALITY_NAMES_EN, MODALITY_LABELS),
              (OBJECTIVE.english, OBJECTIVE.labels), (SEVERITY.english, SEVERITY.labels)]  # fmt: skip
    for english, labels in tables:
        assert english.keys() == labels.keys()
        for code, msgid in english.items():
            assert spanish.gettext(msgid) == labels[code], (code, msgid)


def _command_paths(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*path, name))
        else:
            paths.append((*path, name))
    return paths


def test_every_commands_help_fits_80_columns_in_both_languages(terminal):
    paths = _command_paths(main)
    assert ("view-jobs",) in paths and len(paths) > 30
    for lang in ("es", "en"):
        for path in paths:
            result = terminal("--lang", lang, *path, "--help")
            assert result.exit_code == 0, (lang, path, result.output)
            wide = [line for line in result.output.splitlines() if len(line) > 80]
            assert wide == [], (lang, path, wide)
    spanish = terminal("--lang", "es", "view-jobs", "--help").output
    assert "--category CATEGORÍA" in spanish and "Una de: Tecnología, Ventas" in spanish
    english = terminal("--lang", "en", "view-jobs", "--help").output
    assert "--category CATEGORY" in english and "One of: Technology, Sales" in english


def test_placeholders_speak_the_language(terminal):
    spanish = terminal("campaign", "show", "--help").output
    assert spanish.startswith("Uso: adflux campaign show [OPCIONES] ID_CAMPAÑA")
    assert "--page ENTERO" in terminal("view-jobs", "--help").output.replace("  ", " ")
    english = terminal("--lang", "en", "campaign", "show", "--help").output
    assert english.startswith("Usage: adflux campaign show [OPTIONS] CAMPAIGN_ID")
    assert "--city TEXT\n" in terminal("--lang", "en", "view-jobs", "--help").output
