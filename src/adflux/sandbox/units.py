"""What the simulator delivers for: one ad group with its budget, targeting, text and on/off history."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any


@dataclass
class Unit:
    """One deliverable ad group (ad set, ad group, line item, ad squad) for the simulator."""

    platform: str
    account: str
    campaign_id: str
    group_id: str
    daily_budget: int  # pesos
    objective: str = "traffic"
    campaign_cap: int | None = None  # pesos over the campaign's lifetime
    interests: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    custom_audience: bool = False
    texts: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    history: list[tuple[date, bool]] = field(default_factory=list)
    approved: bool | None = True  # Meta review; False never delivers

    def active_on(self, day: date) -> bool:
        state = False
        for when, active in self.history:
            if when <= day:
                state = active
            else:
                break
        if self.start and day < self.start:
            return False
        if self.end and day > self.end:
            return False
        return state and self.approved is not False


def copy_unit(unit: Unit) -> Unit:
    """A copy that shares nothing mutable with ``unit`` (its lists are the only mutable fields)."""
    return replace(unit, texts=list(unit.texts), history=list(unit.history))


def unit_to_json(unit: Unit) -> dict[str, Any]:
    """The unit as JSON-ready values (dates as ISO text, tuples as lists)."""
    return {
        "platform": unit.platform,
        "account": unit.account,
        "campaign_id": unit.campaign_id,
        "group_id": unit.group_id,
        "daily_budget": unit.daily_budget,
        "objective": unit.objective,
        "campaign_cap": unit.campaign_cap,
        "interests": list(unit.interests),
        "cities": list(unit.cities),
        "custom_audience": unit.custom_audience,
        "texts": list(unit.texts),
        "start": unit.start.isoformat() if unit.start else None,
        "end": unit.end.isoformat() if unit.end else None,
        "history": [[day.isoformat(), active] for day, active in unit.history],
        "approved": unit.approved,
    }


def unit_from_json(data: dict[str, Any]) -> Unit:
    """The inverse of :func:`unit_to_json`."""
    return Unit(
        platform=data["platform"],
        account=data["account"],
        campaign_id=data["campaign_id"],
        group_id=data["group_id"],
        daily_budget=data["daily_budget"],
        objective=data["objective"],
        campaign_cap=data["campaign_cap"],
        interests=tuple(data["interests"]),
        cities=tuple(data["cities"]),
        custom_audience=data["custom_audience"],
        texts=list(data["texts"]),
        start=date.fromisoformat(data["start"]) if data["start"] else None,
        end=date.fromisoformat(data["end"]) if data["end"] else None,
        history=[(date.fromisoformat(day), bool(active)) for day, active in data["history"]],
        approved=data["approved"],
    )
