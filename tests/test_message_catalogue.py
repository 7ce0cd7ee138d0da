"""One catalogue for every face: what a person reads goes through gettext (adflux.catalogue in
services, CLI and tasks; Flask-Babel in the dashboard), and the catalogue is complete and current.

The scan walks the code for strings that reach a person: messages of domain errors and click
errors, click.echo / console.print / flash texts, table titles and captions, and click help texts.
A bare literal (or an f-string with words in it) there is uncatalogued, and fails the test.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from adflux import catalogue

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "adflux"
SCANNED = ("services", "cli", "tasks", "web", "api")
ERRORS = {
    "DomainError", "NotFound", "Conflict", "InvalidTransition", "ValidationFailed", "PermissionDenied",
    "Unauthenticated", "ServiceUnavailable", "ClickException", "UsageError", "BadParameter",
}  # fmt: skip
SAYERS = {"echo", "secho", "print", "flash", "rule", "fail", "prompt", "confirm"}
TITLED = {"print_table", "Table"}  # their first argument is the table's title
GETTEXT = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "lazy_ngettext"}
MARKUP = re.compile(r"\[/?[a-z #0-9_]*\]")
WORDS = re.compile(r"[A-Za-zÁÉÍÓÚáéíóúñÑ]{2,}")


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _has_words(node: ast.expr) -> bool:
    """A literal a person would read: words, once rich markup and placeholders are left out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(WORDS.search(MARKUP.sub("", node.value)))
    if isinstance(node, ast.JoinedStr):
        return any(_has_words(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):  # "..." + "..." or "..." % values
        return _has_words(node.left) or _has_words(node.right)
    if isinstance(node, ast.IfExp):  # "..." if cond else "..."
        return _has_words(node.body) or _has_words(node.orelse)
    return False


def _said(call: ast.Call) -> list[ast.expr]:
    """The arguments of `call` that a person reads, if it is an error, a message or a help text."""
    name = _name(call.func)
    said: list[ast.expr] = []
    if (
        name in ERRORS
        or name in TITLED
        or (name in SAYERS and _name(getattr(call.func, "value", call.func)) != "logger")
    ):
        said += call.args[:1]
    said += [k.value for k in call.keywords if k.arg in ("help", "prompt", "message", "title", "caption")]
    if name == "print_table" and len(call.args) > 1 and isinstance(call.args[1], (ast.List, ast.Tuple)):
        # its columns' headers: (N_("Title"), "title"), shown through the catalogue by print_table
        said += [c.elts[0] for c in call.args[1].elts if isinstance(c, ast.Tuple) and c.elts]
    return said


def uncatalogued(path: Path) -> list[str]:
    """`line: text` for each bare user-facing string in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) not in GETTEXT:
            for arg in _said(node):
                if _has_words(arg):
                    found.append(f"{node.lineno}: {ast.unparse(arg)[:70]}")
    return found


def _scan() -> dict[str, list[str]]:
    files = sorted(p for part in SCANNED for p in (PACKAGE / part).rglob("*.py"))
    return {str(p.relative_to(PACKAGE)): found for p in files if (found := uncatalogued(p))}


def test_no_string_reaches_a_person_without_the_catalogue():
    assert _scan() == {}, "wrap these in gettext (adflux.catalogue or flask_babel), then translate them"


# Spanish written straight into a face shows Spanish to a reader who asked for English (--lang en,
# Accept-Language, the dashboard's switch). Faces only: services write some Spanish on purpose (ad
# copy for Colombian audiences, notices), and cli/choices.py pairs each code's Spanish label with
# its English msgid by design.
SPANISH = re.compile(
    r"[áéíóúñÁÉÍÓÚÑ¿¡]|\b(?:no hay|de la|del|los|las|para|en total|sin|con|guardad[oa]s?|respaldo|todas|"
    r"ninguna|siguiente|segmentos|alertas?|reglas?|ofertas?|candidatos|postulaciones|tareas)\b",
    re.IGNORECASE,
)
FACES = ("cli", "api", "web/views", "tasks")
SPANISH_BY_DESIGN = {"cli/choices.py"}


def spanish_literals(path: Path) -> list[str]:
    """`line: text` for each string literal in Spanish outside gettext calls and docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in GETTEXT | {"N_"}:
            skipped.update(id(inner) for inner in ast.walk(node))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))  # a docstring
    found = [
        (node.lineno, node.value[:60])
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
        if SPANISH.search(node.value)
    ]
    return [f"{line}: {text}" for line, text in sorted(found)]


def test_no_face_writes_spanish_past_the_catalogue():
    files = sorted(p for part in FACES for p in (PACKAGE / part).rglob("*.py"))
    found = {
        name: hits
        for p in files
        if (name := str(p.relative_to(PACKAGE))) not in SPANISH_BY_DESIGN and (hits := spanish_literals(p))
    }
    assert found == {}, "write the English msgid through the catalogue and translate it in es_CO"


def test_the_spanish_scan_sees_literals_and_passes_the_catalogue(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Módulo: its docstring may say anything."""\n'
        "console.print('No hay alertas.' if x else _('No alerts.'))\n"
        "LABELS = {'a': N_('Category'), 'b': 'Categoría'}\n"
        "say(f'Respaldo guardado en {path}')\n"
        "say(_('Backup saved in %(path)s', path=path))\n"
    )
    assert [line.split(":")[0] for line in spanish_literals(sample)] == ["2", "3", "4"]


def test_the_scan_sees_bare_strings_and_passes_wrapped_ones(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "raise NotFound(f'Campaign {n} does not exist')\n"
        "raise NotFound(_('Campaign %(id)s does not exist', id=n))\n"
        "click.echo('Done')\n"
        "click.echo(f'{a} · {b}')\n"
        "console.print(f'[bold]{name}[/]')\n"
        "logger.info('not for people')\n"
        "click.option('--all', help='Show everything.')\n"
        "flash(_('Saved.'))\n"
        "print_table(_('Jobs'), [('Título', 'title'), (N_('City'), 'city'), ('', 'x')], rows)\n"
        "print_table(_('Jobs'), [(N_('Title'), 'title')], rows)\n"
        "console.print('None yet.' if empty else _('Some.'))\n"
    )
    assert [line.split(":")[0] for line in uncatalogued(sample)] == ["1", "3", "7", "9", "11"]


def test_the_catalogue_holds_every_string_the_code_asks_for(tmp_path):
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         str(PACKAGE / "translations" / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "--no-location",
         "-o", str(fresh), str(ROOT)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    with fresh.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with (PACKAGE / "translations" / "es_CO" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        spanish = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(f, locale="es_CO") if m.id}
    missing = sorted(i for i in wanted if i not in spanish or not spanish[i].string or spanish[i].fuzzy)
    assert missing == [], "run the pybabel steps in src/adflux/translations/README.md"


def test_messages_are_spanish_by_default_and_english_on_request(monkeypatch):
    monkeypatch.delenv("ADFLUX_LANG", raising=False)
    assert catalogue.gettext("Campaign %(id)s does not exist", id=7) == "La campaña 7 no existe"
    monkeypatch.setenv("ADFLUX_LANG", "en")
    assert catalogue.gettext("Campaign %(id)s does not exist", id=7) == "Campaign 7 does not exist"
    assert (
        catalogue.gettext("Campaign %(id)s does not exist", locale="es_CO", id=7) == "La campaña 7 no existe"
    )
    assert catalogue.normalise_locale("es-CO") == "es_CO" and catalogue.normalise_locale("fr") is None


def test_the_cli_speaks_spanish_and_english_with_lang_or_adflux_lang(cli, monkeypatch):
    monkeypatch.setenv("ADFLUX_LANG", "es_CO")  # restored after the test, whatever --lang sets
    spanish = cli("view-candidates", "--segment-id", "77")
    assert spanish.exit_code == 1 and spanish.output.strip() == "Error: El segmento 77 no existe"
    english = cli("--lang", "en", "view-candidates", "--segment-id", "77")
    assert english.exit_code == 1 and english.output.strip() == "Error: Segment 77 does not exist"
    monkeypatch.setenv("ADFLUX_LANG", "en")
    assert cli("view-candidates", "--segment-id", "77").output.strip() == "Error: Segment 77 does not exist"
    refused = cli("--lang", "fr", "view-candidates")
    assert refused.exit_code == 2 and "'fr' is not one of" in refused.output


def test_the_api_answers_in_the_language_asked_for(client):
    spanish = client.get("/api/v1/segments/77")
    assert spanish.status_code == 404 and spanish.get_json()["message"] == "El segmento 77 no existe"
    english = client.get("/api/v1/segments/77", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.get_json()["message"] == "Segment 77 does not exist"
