"""The platforms' own request definitions, as data (definitions.json, generated from the official
client libraries by tests/contracts/sandbox_definitions.py): what the sandbox refuses as unknown."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def definitions() -> dict[str, Any]:
    text = resources.files("adflux.sandbox").joinpath("definitions.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def google_mutate_unknown(body: dict[str, Any]) -> list[str]:
    """Unknown JSON names in a googleAds:mutate body, as Google words them ("Unknown name ... at ...")."""
    mutate = definitions()["GOOGLE_MUTATE"]
    problems = [f'Unknown name "{key}": Cannot find field.' for key in body if key not in mutate["request"]]
    for index, operation in enumerate(body.get("mutateOperations") or []):
        for kind, value in operation.items():
            message = mutate["operations"].get(kind)
            where = f"mutate_operations[{index}]"
            if message is None:
                problems.append(f"Unknown name \"{kind}\" at '{where}': Cannot find field.")
            else:
                problems += _walk(mutate["messages"], message, value, f"{where}.{kind}")
    return problems


def google_asset_mutate_unknown(body: dict[str, Any]) -> list[str]:
    """Unknown JSON names in an AssetService ``assets:mutate`` body (MutateAssetsRequest)."""
    assets = definitions()["GOOGLE_ASSET_MUTATE"]
    return _walk(assets["messages"], assets["request"], body, "request")


def _walk(messages: dict[str, Any], message: str, value: Any, where: str) -> list[str]:
    if isinstance(value, list):
        return [problem for item in value for problem in _walk(messages, message, item, where)]
    if not isinstance(value, dict):
        return []
    fields = messages[message]
    problems = []
    for key, item in value.items():
        if key not in fields:
            problems.append(f"Unknown name \"{key}\" at '{where}': Cannot find field.")
        elif fields[key] is not None:
            problems += _walk(messages, fields[key], item, f"{where}.{key}")
    return problems


def gaql_unknown(fields: list[str]) -> list[str]:
    known = _gaql_fields()
    return [name for name in fields if name not in known]


@cache
def _gaql_fields() -> frozenset[str]:
    return frozenset(definitions()["GAQL_FIELDS"])


def tiktok_unknown(endpoint: str, body: dict[str, Any]) -> list[str]:
    spec = definitions()["TIKTOK_BODIES"].get(endpoint)
    if spec is None:
        return []
    problems = [key for key in body if key not in spec]
    for key, nested in spec.items():
        if nested and isinstance(body.get(key), list):
            problems += [
                f"{key}.{name}"
                for item in body[key]
                if isinstance(item, dict)
                for name in item
                if name not in nested
            ]
    return problems


def meta_unknown(edge: str, keys: list[str]) -> list[str]:
    known = definitions()["META_FIELDS"].get(edge)
    return [] if known is None else [key for key in keys if key not in known]


def x_unknown(resource: str, keys: list[str]) -> list[str]:
    known = definitions()["X_PROPERTIES"].get(resource)
    return [] if known is None else [key for key in keys if key not in known]
