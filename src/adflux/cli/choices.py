"""Options that take a code or its name: `--status activa` and `--status active` are the same.

Each choice has its Spanish label (what tables show: "activa", "Híbrido", "Logística y transporte")
and an English one, a catalogue msgid whose Spanish translation is that label. Help and errors show
the labels of the CLI's language (`--lang en`: the English ones); whatever either language shows can
be typed back in either language, with or without accents and in any case, and so can the codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from adflux.catalogue import DEFAULT_LOCALE, N_, current_locale
from adflux.catalogue import gettext as _
from adflux.constants import (
    EDUCATION_LABELS,
    JOB_CATEGORY_LABELS,
    MODALITY_LABELS,
    STATUS_NAMES_ES,
)
from adflux.monitoring.alert_names import SEVERITY_NAMES as SEVERITY_NAMES_EN
from adflux.services.text_search import fold

# A choice list longer than this shows a short metavar (--category CATEGORY) and its values in the
# option's help, which wraps, so help at 80 columns never runs past the edge.
LONGEST_METAVAR = 30


def _key(text: str) -> str:
    return " ".join(fold(text).replace("_", " ").split())


class LabelledChoice(click.ParamType):
    """One of a set of codes, typed as the code or as a label in either language; converts to the code."""

    name = "choice"

    def __init__(
        self,
        labels: Mapping[str, str],
        english: Mapping[str, str] | None = None,
        metavar: str = N_("VALUE"),
    ) -> None:
        self.labels = dict(labels)
        self.english = dict(english) if english is not None else dict(labels)
        self.metavar = metavar
        self._codes = {_key(code): code for code in labels}
        for code in labels:
            name = self.english[code]
            for label in (self.labels[code], name, _(name, locale=DEFAULT_LOCALE)):
                self._codes.setdefault(_key(label), code)

    def shown(self) -> list[str]:
        """The labels in the CLI's language: the Spanish table's, or the English msgids translated."""
        if current_locale() == DEFAULT_LOCALE:
            return list(self.labels.values())
        return [_(label) for label in self.english.values()]

    def is_long(self) -> bool:
        return len("|".join(self.shown())) + 2 > LONGEST_METAVAR

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        if self.is_long():
            return _(self.metavar)
        return "[" + "|".join(self.shown()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        code = self._codes.get(_key(str(value)))
        if code is None:
            labels = ", ".join(self.shown())
            self.fail(
                _("«%(value)s» is not a choice; use one of: %(labels)s", value=value, labels=labels),
                param,
                ctx,
            )
        return code


STATUS_NAMES_EN: dict[str, str] = {
    "open": N_("open"),
    "closed": N_("closed"),
    "draft": N_("draft"),
    "publishing": N_("publishing"),
    "active": N_("active"),
    "partially_active": N_("partially active"),
    "partially_paused": N_("partially paused"),
    "partially_completed": N_("partially completed"),
    "partially_archived": N_("partially archived"),
    "failed": N_("failed"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "archived": N_("archived"),
    "pending": N_("pending"),
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "candidate": N_("candidate"),
    "retired": N_("retired"),
    "resolved": N_("resolved"),
}
CATEGORY_NAMES_EN: dict[str, str] = {
    "tecnologia": N_("Technology"),
    "ventas": N_("Sales"),
    "servicio_cliente": N_("Customer service"),
    "administracion": N_("Administration"),
    "contabilidad_finanzas": N_("Accounting and finance"),
    "salud": N_("Health"),
    "logistica_transporte": N_("Logistics and transport"),
    "produccion_operarios": N_("Production and operators"),
    "educacion": N_("Education"),
    "ingenieria": N_("Engineering"),
    "construccion": N_("Construction"),
    "mercadeo_publicidad": N_("Marketing and advertising"),
    "recursos_humanos": N_("Human resources"),
    "hoteleria_turismo": N_("Hospitality and tourism"),
    "legal": N_("Legal"),
}
EDUCATION_NAMES_EN: dict[str, str] = {
    "bachiller": N_("High school"),
    "tecnico": N_("Technician"),
    "tecnologo": N_("Technologist"),
    "profesional": N_("Professional"),
    "especializacion": N_("Specialisation"),
    "maestria": N_("Master's degree"),
    "doctorado": N_("Doctorate"),
}
MODALITY_NAMES_EN = {"presencial": N_("On-site"), "remoto": N_("Remote"), "hibrido": N_("Hybrid")}


def statuses(codes: Iterable[str]) -> LabelledChoice:
    """A status option over these codes, named as tables name them ("parcialmente activa")."""
    codes = list(codes)
    return LabelledChoice(
        {code: STATUS_NAMES_ES.get(code, code) for code in codes},
        {code: STATUS_NAMES_EN.get(code, code) for code in codes},
        N_("STATUS"),
    )


MODALITY = LabelledChoice(MODALITY_LABELS, MODALITY_NAMES_EN, N_("MODALITY"))
CATEGORY = LabelledChoice(JOB_CATEGORY_LABELS, CATEGORY_NAMES_EN, N_("CATEGORY"))
EDUCATION = LabelledChoice(EDUCATION_LABELS, EDUCATION_NAMES_EN, N_("EDUCATION"))
OBJECTIVE = LabelledChoice(
    {"traffic": "tráfico", "leads": "postulaciones"},
    {"traffic": N_("traffic"), "leads": N_("applications")},
    N_("OBJECTIVE"),
)
ROLE = LabelledChoice(
    {"viewer": "lector", "manager": "gestor", "admin": "administrador"},
    # the dashboard's role names; the Spanish table keeps the CLI's own ("lector", "gestor")
    {"viewer": N_("viewer"), "manager": N_("manager"), "admin": N_("administrator")},
    N_("ROLE"),
)
SEVERITY_LABELS = {"info": "informativa", "warning": "advertencia", "critical": "crítica"}
SEVERITY = LabelledChoice(SEVERITY_LABELS, SEVERITY_NAMES_EN, N_("SEVERITY"))


def named(names_en: Mapping[str, str], code: str | None) -> str:
    """A code's name in the CLI's language, as tables show it: the English name's translation
    (in Spanish, the same label the Spanish tables always showed), or the code if it has none."""
    if not code:
        return "—"
    name = names_en.get(code)
    return _(name) if name else code


PACING_MODE = LabelledChoice(
    {"even": "uniforme", "front_loaded": "concentrado al inicio"},
    {"even": N_("even"), "front_loaded": N_("front-loaded")},
    N_("MODE"),
)
APPLICATIONS_SOURCE = LabelledChoice(
    {"platform": "plataforma", "first_hand": "propias"},
    {"platform": N_("platform"), "first_hand": N_("first-hand")},
    N_("SOURCE"),
)
RULE_TEMPLATE = LabelledChoice(
    {
        "stop_loss": "cortar pérdidas",
        "scale_winners": "escalar ganadores",
        "revive": "reactivar",
        "end_of_flight": "fin del vuelo",
    },
    {
        "stop_loss": N_("stop loss"),
        "scale_winners": N_("scale winners"),
        "revive": N_("revive"),
        "end_of_flight": N_("end of flight"),
    },
    N_("TEMPLATE"),
)
RULE_LEVEL = LabelledChoice(
    {"campaign": "campaña", "platform_campaign": "campaña en plataforma", "ad_group": "grupo de anuncios"},
    {"campaign": N_("campaign"), "platform_campaign": N_("platform campaign"), "ad_group": N_("ad group")},
    N_("LEVEL"),
)
LINK_MODE = LabelledChoice(
    {"redirect": "redirección", "utm": "UTM"},
    {"redirect": N_("redirect"), "utm": N_("UTM")},
    N_("MODE"),
)
