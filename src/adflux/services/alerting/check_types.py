"""What an alert check is given and what it answers: the context, a firing, "not applicable"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adflux.settings import Settings


@dataclass(frozen=True)
class Firing:
    """A rule's condition holding for one key, with the value that crossed the threshold."""

    key: str
    message: str
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's severity (e.g. an already expired token)


class NotApplicable(Exception):
    """The rule does not apply to this deployment (no broker, SQLite, ...): nothing fires."""


@dataclass
class Context:
    settings: Settings
    now: datetime
