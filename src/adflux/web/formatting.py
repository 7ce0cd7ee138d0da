"""Jinja filters: pesos, numbers, ratios and Bogotá dates in the reader's locale, plus status labels."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from adflux.constants import PLATFORM_LABELS
from adflux.services.local_dates import today

EMPTY = "—"

STATUS_LABELS: dict[str, Any] = {
    # campaigns and platform campaigns
    "draft": _l("Draft"),
    "publishing": _l("Publishing"),
    "active": _l("Active"),
    "partially_active": _l("Partially active"),
    "partially_paused": _l("Partially paused"),
    "partially_completed": _l("Partially completed"),
    "partially_archived": _l("Partially archived"),
    "failed": _l("Failed"),
    "paused": _l("Paused"),
    "completed": _l("Completed"),
    "archived": _l("Archived"),
    "pending": _l("Pending"),
    # shown, never stored: an active campaign whose start date is still ahead
    "scheduled": _l("Scheduled"),
    # task runs
    "running": _l("Running"),
    "succeeded": _l("Succeeded"),
    # models and alerts
    "candidate": _l("Candidate"),
    "retired": _l("Retired"),
    "open": _l("Open"),
    "resolved": _l("Resolved"),
    # health checks (the system-health page)
    "ok": _l("OK"),
    "degraded": _l("Degraded"),
    "fail": _l("Failing"),
    "unknown": _l("Unknown"),
}

ACTION_LABELS: dict[str, Any] = {
    "publish": _l("Publish"),
    "pause": _l("Pause"),
    "resume": _l("Resume"),
    "retry_failed": _l("Retry failed platforms"),
    "retry_action": _l("Retry on the remaining platforms"),
    "complete": _l("End"),
    "archive": _l("Archive"),
}

TASK_KIND_LABELS: dict[str, Any] = {
    "campaign.publish": _l("Campaign publishing"),
    "metrics.sync": _l("Metrics sync"),
    "segmentation.train": _l("Segmentation training"),
}

# A creative's call to action as the button on the ad reads.
CTA_LABELS: dict[str, Any] = {
    "APPLY_NOW": _l("Apply now"),
    "LEARN_MORE": _l("Learn more"),
    "SIGN_UP": _l("Sign up"),
}

COMPLIANCE_ACTION_LABELS: dict[str, Any] = {
    "dropped": _l("dropped"),
    "widened": _l("widened"),
    "kept": _l("kept"),
    "added": _l("added"),
}

# A segment profile's fields in display order: key -> (label, kind). Kinds: "shares" (a list of
# {"value", "label"?, "share"}), "text", "cop", "age", "years". Unknown keys are shown after these.
PROFILE_FIELDS: dict[str, tuple[Any, str]] = {
    "distinctive": (_l("What sets it apart"), "shares"),
    "top_categories": (_l("Job categories"), "shares"),
    "top_cities": (_l("Cities"), "shares"),
    "top_departments": (_l("Departments"), "shares"),
    "age_band": (_l("Age band"), "text"),
    "median_age": (_l("Median age"), "age"),
    "age_distribution": (_l("Ages"), "shares"),
    "education": (_l("Education"), "shares"),
    "modality": (_l("Modality"), "shares"),
    "top_skills": (_l("Skills"), "shares"),
    "median_years_experience": (_l("Median years of experience"), "years"),
    "median_expected_salary": (_l("Median expected salary"), "cop"),
}
# Shown elsewhere on the page (the sizes table), so left out of the profile cards.
PROFILE_HIDDEN = frozenset({"size", "share"})


def _locale() -> str:
    return str(get_locale() or "es_CO")


def locale_name() -> str:
    """The reader's language now (to write many values in it without asking each time)."""
    return _locale()


@lru_cache(maxsize=16)
def _babel_locale(name: str) -> Locale:
    """Babel's Locale for `name`, parsed once (Babel parses a string locale on every call)."""
    return Locale.parse(name)


@lru_cache(maxsize=16)
def _integer_style(locale: str) -> tuple[str, str]:
    """The locale's currency prefix and grouping separator for whole numbers, read once from Babel
    (a chart's data table writes thousands of them: Babel parses locale and pattern every call)."""
    money = format_currency(1234, "COP", format="¤ #,##0", locale=locale, currency_digits=False)
    grouped = format_decimal(1234, locale=locale)
    return money[: money.index("1")], grouped[1:-3]


def _grouped(value: int, locale: str) -> str:
    _prefix, separator = _integer_style(locale)
    text = f"{abs(value):,}"
    return ("-" if value < 0 else "") + (text if separator == "," else text.replace(",", separator))


def cop(pesos: float | None, *, locale: str | None = None) -> str:
    """Whole Colombian pesos: "$ 1.234.567" in es-CO, "COP 1,234,567" in English."""
    if pesos is None:
        return EMPTY
    locale = locale or _locale()
    whole = round(pesos)
    prefix, grouped = _integer_style(locale)[0], _grouped(whole, locale)
    return f"-{prefix}{grouped[1:]}" if whole < 0 else prefix + grouped


def cop_precise(pesos: float | None) -> str:
    """Pesos with cents where a unit cost is small (CPC): "$ 1.234,56"."""
    if pesos is None:
        return EMPTY
    if abs(pesos) >= 1000:
        return cop(pesos)
    return format_currency(
        pesos, "COP", format="¤ #,##0.00", locale=_babel_locale(_locale()), currency_digits=False
    )


def number(value: float | None, *, locale: str | None = None) -> str:
    """A count with the locale's grouping ("1.234.567")."""
    if value is None:
        return EMPTY
    locale = locale or _locale()
    if isinstance(value, int) and not isinstance(value, bool):
        return _grouped(value, locale)
    return format_decimal(value, locale=_babel_locale(locale))


def percent(ratio: float | None, digits: int = 2, *, locale: str | None = None) -> str:
    """A ratio as a percentage ("1,23 %").

    Written as Babel writes it (its decimal of `str(ratio)` times 100, rounded half to even) with
    the locale's symbols read from Babel once per locale and precision: a chart's table writes
    hundreds of these, and Babel parses the pattern and looks up every symbol on each call."""
    if ratio is None:
        return EMPTY
    locale = locale or _locale()
    if type(ratio) in (float, int) and 0 <= digits <= 6 and math.isfinite(ratio):
        value = Decimal(str(ratio)).scaleb(2)
        rounded = abs(value).quantize(_QUANTA[digits])
        whole, _dot, fraction = f"{rounded:f}".partition(".")
        prefixes, suffixes, group, point = _percent_style(locale, digits)
        text = f"{int(whole):,}"
        text = text if group == "," else text.replace(",", group)
        if digits:
            text += point + fraction
        negative = int(value.is_signed())
        return prefixes[negative] + text + suffixes[negative]
    return format_percent(ratio, format=_percent_pattern(digits), locale=_babel_locale(locale))


_QUANTA = [Decimal(1).scaleb(-n) for n in range(7)]


def _percent_pattern(digits: int) -> str:
    return "#,##0." + "0" * digits + " %" if digits else "#,##0 %"


@lru_cache(maxsize=32)
def _percent_style(locale: str, digits: int) -> tuple[tuple[str, str], tuple[str, str], str, str]:
    """Babel's prefix and suffix (positive, negative), grouping and decimal symbols for a percent."""
    pattern = parse_pattern(_percent_pattern(digits))  # (Babel writes its "%" and "-" as they are)
    babel_locale = _babel_locale(locale)
    prefixes, suffixes = (pattern.prefix[0], pattern.prefix[1]), (pattern.suffix[0], pattern.suffix[1])
    return prefixes, suffixes, get_group_symbol(babel_locale), get_decimal_symbol(babel_locale)


def decimal(value: float | None, digits: int = 3, *, locale: str | None = None) -> str:
    """A score such as a silhouette, to `digits` decimals."""
    if value is None:
        return EMPTY
    return format_decimal(value, format="#,##0." + "0" * digits, locale=_babel_locale(locale or _locale()))


def local_date(value: date | None, style: str = "medium") -> str:
    """A calendar date in the reader's locale."""
    if value is None:
        return EMPTY
    return format_date(value, style)


def local_datetime(value: datetime | None, style: str = "medium") -> str:
    """A UTC timestamp shown in America/Bogota (Flask-Babel's display time zone)."""
    if value is None:
        return EMPTY
    return format_datetime(value, style)


def status_label(status: str | None) -> str:
    """The translated name of a status (unknown statuses are shown as they are)."""
    if not status:
        return EMPTY
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


# Stages background work reports (services store them as these codes and patterns).
STAGE_LABELS = {
    "done": _l("done"),
    "parse": _l("reading the file"),
    "validate": _l("checking the rows"),
    "write": _l("saving"),
    "backup": _l("backing up"),
    "retention": _l("removing old data"),
    "reading": _l("reading the candidates"),
    "features": _l("preparing the features"),
    "k_search": _l("choosing the number of segments"),
    "fit": _l("training"),
    "registering": _l("saving the model"),
}
_PLATFORMS_DONE = re.compile(r"^(\d+) of (\d+) platforms done$")
_PLATFORM_STEP = re.compile(r"^(\w+): (\d+)/(\d+)$")


def stage_label(stage: str | None) -> str:
    """A task's stage as people read it, in their language ("2 de 3 plataformas listas")."""
    if not stage:
        return ""
    if stage in STAGE_LABELS:
        return str(STAGE_LABELS[stage])
    if match := _PLATFORMS_DONE.match(stage):
        return _("%(done)s of %(total)s platforms done", done=match[1], total=match[2])
    if match := _PLATFORM_STEP.match(stage):
        name = PLATFORM_LABELS.get(match[1], match[1])
        return _("%(platform)s: %(done)s of %(total)s", platform=name, done=match[2], total=match[3])
    return stage


ROLE_LABELS = {"viewer": _l("viewer"), "manager": _l("manager"), "admin": _l("administrator")}


def role_label(role: str | None) -> str:
    """A user's role as people read it ("administrador")."""
    return str(ROLE_LABELS.get(role or "", role or EMPTY))


def cta_label(code: str | None) -> str:
    """A call-to-action code as the button reads ("APPLY_NOW" -> "Postularme")."""
    label = CTA_LABELS.get(code or "")
    return str(label) if label is not None else (code or "").replace("_", " ").capitalize()


def shown_status(campaign: Any) -> str:
    """The status a person should read: "scheduled" for a live campaign that starts later."""
    if campaign.status in ("active", "partially_active") and campaign.start_date > today():
        return "scheduled"
    return str(campaign.status)


def init_app(app: Flask) -> None:
    """Register the filters and label tables with Jinja."""
    app.jinja_env.filters.update(
        cop=cop,
        cop_precise=cop_precise,
        number=number,
        percent=percent,
        decimal=decimal,
        local_date=local_date,
        local_datetime=local_datetime,
        status_label=status_label,
        stage_label=stage_label,
        role_label=role_label,
        shown_status=shown_status,
        cta_label=cta_label,
    )
    app.jinja_env.globals.update(
        ACTION_LABELS=ACTION_LABELS,
        TASK_KIND_LABELS=TASK_KIND_LABELS,
        COMPLIANCE_ACTION_LABELS=COMPLIANCE_ACTION_LABELS,
        PROFILE_FIELDS=PROFILE_FIELDS,
        PROFILE_HIDDEN=PROFILE_HIDDEN,
    )
