"""Options that take a code or its Spanish name: `--status activa` is `--status active`.

Tables show labels ("activa", "Híbrido", "Logística y transporte"); whatever a table shows can be
typed back, with or without accents and in any case, and so can the code scripts use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from adflux.catalogue import gettext as _
from adflux.constants import (
    EDUCATION_LABELS,
    JOB_CATEGORY_LABELS,
    MODALITY_LABELS,
    STATUS_NAMES_ES,
)
from adflux.services.text_search import fold


def _key(text: str) -> str:
    return " ".join(fold(text).replace("_", " ").split())


class LabelledChoice(click.ParamType):
    """One of a set of codes, typed as the code or as its label; converts to the code."""

    name = "choice"

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = dict(labels)
        self._codes = {_key(code): code for code in labels} | {
            _key(label): code for code, label in labels.items()
        }

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.labels.values()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        code = self._codes.get(_key(str(value)))
        if code is None:
            labels = ", ".join(self.labels.values())
            self.fail(
                _("«%(value)s» is not a choice; use one of: %(labels)s", value=value, labels=labels),
                param,
                ctx,
            )
        return code


def statuses(codes: Iterable[str]) -> LabelledChoice:
    """A status option over these codes, named as tables name them ("parcialmente activa")."""
    return LabelledChoice({code: STATUS_NAMES_ES.get(code, code) for code in codes})


MODALITY = LabelledChoice(MODALITY_LABELS)
CATEGORY = LabelledChoice(JOB_CATEGORY_LABELS)
EDUCATION = LabelledChoice(EDUCATION_LABELS)
OBJECTIVE = LabelledChoice({"traffic": "tráfico", "leads": "postulaciones"})
ROLE = LabelledChoice({"viewer": "lector", "manager": "gestor", "admin": "administrador"})
SEVERITY = LabelledChoice({"info": "informativa", "warning": "advertencia", "critical": "crítica"})
