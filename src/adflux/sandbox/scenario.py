"""Market scenarios: the hidden truth of the simulated ad market, read from a JSON file.

A scenario says what each platform's audiences cost and how they respond (CPM, CTR, conversion,
audience size, saturation, under-delivery), how applications are credited over the days after a
click (the attribution lag), and how noisy days are. AdFlux itself never reads a scenario: only
the sandbox and the benchmarks do. The file format is documented in docs/TECHNICAL_DOCS.md
("Market scenarios"); :data:`DEFAULT` is close to the figures the sandbox had before scenarios.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adflux.constants import PLATFORMS

PROFILES: tuple[str, ...] = ("joven_digital", "operativo", "profesional", "comercial", "amplio")


WEEKDAY: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.85)


class ScenarioError(ValueError):
    """The scenario file is missing, not JSON, or breaks the documented format."""


@dataclass(frozen=True)
class PlatformMarket:
    """How one platform's inventory costs and responds."""

    cpm: float  # COP per thousand impressions at an unsaturated audience
    ctr: float  # clicks per impression at frequency 1, before affinities
    cvr: float  # applications per click, before affinities
    engagement_rate: float  # engagements (likes, shares) per impression
    audience: float  # people an ad group can reach per day on this platform (profile multiplier 1)
    saturation: float  # how fast CPM rises as impressions approach the audience: cpm·(1 + s·I/A)
    frequency_decay: float  # CTR falls as frequency^-decay
    max_frequency: float  # impressions per reachable person per day the platform will deliver


@dataclass(frozen=True)
class Scenario:
    """One market: the numbers behind every simulated impression, click and application."""

    name: str
    description: str
    platforms: dict[str, PlatformMarket]
    platform_profile: dict[str, dict[str, float]]  # platform x profile reach affinity
    profile_fit: dict[str, dict[str, float]]  # profile x job category fit (missing = 1)
    audience_profile: dict[str, float]  # audience size multiplier per profile
    platform_category_spread: tuple[float, float]  # hidden platform x category affinity range
    lag: tuple[float, ...]  # share of applications credited 0, 1, 2... days after the click
    noise: float  # log-normal sd of a day's multiplicative noise
    quality_spread: float  # log-normal sd of an ad group's hidden quality (fixed for its life)
    weekday: tuple[float, ...] = WEEKDAY  # traffic multiplier Mon..Sun

    @property
    def lag_cdf(self) -> tuple[float, ...]:
        """Share of a day's applications credited by 0, 1, 2... days after it."""
        total, out = 0.0, []
        for share in self.lag:
            total += share
            out.append(min(1.0, total))
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """The scenario in its file format."""
        data = asdict(self)
        data["platform_category_spread"] = list(self.platform_category_spread)
        data["lag"] = list(self.lag)
        data["weekday"] = list(self.weekday)
        return data


def _number(data: dict[str, Any], key: str, where: str, *, low: float = 0.0) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}.{key} must be a number")
    if value < low:
        raise ScenarioError(f"{where}.{key} must be at least {low}")
    return float(value)


def _platform(data: Any, name: str) -> PlatformMarket:
    if not isinstance(data, dict):
        raise ScenarioError(f"platforms.{name} must be an object")
    where = f"platforms.{name}"
    values = {key: _number(data, key, where) for key in PlatformMarket.__dataclass_fields__}
    if values["ctr"] > 1 or values["cvr"] > 1:
        raise ScenarioError(f"{where}: ctr and cvr are shares between 0 and 1")
    if values["audience"] < 1 or values["max_frequency"] < 1 or values["cpm"] <= 0:
        raise ScenarioError(f"{where}: audience and max_frequency must be at least 1, cpm above 0")
    return PlatformMarket(**values)


def _table(data: Any, where: str, rows: tuple[str, ...] | None) -> dict[str, dict[str, float]]:
    if not isinstance(data, dict) or (rows is not None and set(data) != set(rows)):
        raise ScenarioError(f"{where} must have one entry for each of {', '.join(rows or ())}")
    out: dict[str, dict[str, float]] = {}
    for row, cells in data.items():
        if not isinstance(cells, dict):
            raise ScenarioError(f"{where}.{row} must be an object")
        out[row] = {key: _number(cells, key, f"{where}.{row}") for key in cells}
    return out


def _sequence(data: Any, where: str, length: int | None = None) -> tuple[float, ...]:
    if not isinstance(data, list) or not data or (length is not None and len(data) != length):
        raise ScenarioError(f"{where} must be a list of {length or 'one or more'} numbers")
    return tuple(_number({"v": value}, "v", where) for value in data)


def scenario_from_json(data: Any) -> Scenario:
    """A validated scenario from parsed JSON (raises ScenarioError naming the bad field)."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a JSON object")
    platforms = data.get("platforms")
    if not isinstance(platforms, dict) or set(platforms) != set(PLATFORMS):
        raise ScenarioError(f"platforms must have one entry for each of {', '.join(PLATFORMS)}")
    lag = _sequence(data.get("lag"), "lag")
    if abs(sum(lag) - 1) > 1e-6:
        raise ScenarioError("lag shares must add up to 1")
    spread = _sequence(data.get("platform_category_spread"), "platform_category_spread", 2)
    if spread[0] > spread[1]:
        raise ScenarioError("platform_category_spread is [low, high]")
    audience_profile = _table({"a": data.get("audience_profile")}, "audience_profile", None)["a"]
    if set(audience_profile) != set(PROFILES):
        raise ScenarioError(f"audience_profile must have one entry for each of {', '.join(PROFILES)}")
    return Scenario(
        name=str(data.get("name") or "unnamed"),
        description=str(data.get("description") or ""),
        platforms={name: _platform(platforms[name], name) for name in PLATFORMS},
        platform_profile=_table(data.get("platform_profile"), "platform_profile", PLATFORMS),
        profile_fit=_table(data.get("profile_fit"), "profile_fit", PROFILES),
        audience_profile=audience_profile,
        platform_category_spread=(spread[0], spread[1]),
        lag=lag,
        noise=_number(data, "noise", "scenario"),
        quality_spread=_number(data, "quality_spread", "scenario"),
        weekday=_sequence(data.get("weekday", list(WEEKDAY)), "weekday", 7),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read scenario {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(f"scenario {path} is not JSON: {error.msg} at line {error.lineno}") from None
    return scenario_from_json(data)


DEFAULT_PATH = Path(__file__).with_name("scenarios") / "default.json"
DEFAULT = load_scenario(DEFAULT_PATH)
