"""Generate the data the sandbox checks requests against, from the official libraries (test-only).

    .venv/bin/python tests/contracts/sandbox_definitions.py   # rewrites src/adflux/sandbox/definitions.json

``test_sandbox_definitions_match_the_libraries`` fails when the stored data drifts from the libraries.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.ads.googleads.v24.services.types import asset_service, google_ads_service

from contracts.official import (
    META_OBJECTS,
    TIKTOK_MODELS,
    WIRE_NAMES,
    X_RESOURCES,
    _enum_values,
    tiktok_models,
)

TARGET = Path(__file__).resolve().parents[2] / "src/adflux/sandbox/definitions.json"
# The mutate operations and GAQL resources the sandbox serves.
GOOGLE_OPERATIONS = (
    "campaign_budget_operation",
    "campaign_operation",
    "campaign_criterion_operation",
    "ad_group_operation",
    "ad_group_criterion_operation",
    "ad_group_ad_operation",
    "ad_operation",  # an ad's copy changed in place (changes.refresh_creatives)
    "ad_group_asset_operation",  # the job's image linked to each ad group (AD_IMAGE)
)
GAQL_RESOURCES = (
    "campaign",
    "campaign_budget",
    "campaign_criterion",  # a campaign's locations, read before they change in place
    "ad_group",
    "ad_group_ad",
    "ad_group_criterion",
    "customer",
    "user_list",
    "asset",  # image assets, found by name before an upload
    "ad_group_asset",
    "metrics",
    "segments",
)


def _message_schema(descriptor: Any, out: dict[str, dict[str, str | None]]) -> None:
    """JSON name -> nested message name (None for scalars/enums), for every message reachable."""
    if descriptor.full_name in out:
        return
    out[descriptor.full_name] = {}
    for fld in descriptor.fields:
        nested = fld.message_type
        if nested is not None and nested.GetOptions().map_entry:
            nested = None
        out[descriptor.full_name][fld.json_name] = nested.full_name if nested is not None else None
        if nested is not None:
            _message_schema(nested, out)


def google_mutate() -> dict[str, Any]:
    request = google_ads_service.MutateGoogleAdsRequest.pb().DESCRIPTOR
    operation = google_ads_service.MutateOperation.pb().DESCRIPTOR
    schema: dict[str, dict[str, str | None]] = {}
    for name in GOOGLE_OPERATIONS:
        _message_schema(operation.fields_by_name[name].message_type, schema)
    root = {fld.json_name: fld.message_type.full_name if fld.message_type else None for fld in request.fields}
    ops = {
        operation.fields_by_name[n].json_name: operation.fields_by_name[n].message_type.full_name
        for n in GOOGLE_OPERATIONS
    }
    return {"request": root, "operations": ops, "messages": schema}


def google_asset_mutate() -> dict[str, Any]:
    """AssetService's MutateAssetsRequest, every message reachable from it."""
    request = asset_service.MutateAssetsRequest.pb().DESCRIPTOR
    schema: dict[str, dict[str, str | None]] = {}
    _message_schema(request, schema)
    return {"request": request.full_name, "messages": schema}


def gaql_fields() -> list[str]:
    row = google_ads_service.GoogleAdsRow.pb().DESCRIPTOR
    paths: list[str] = []

    def walk(descriptor: Any, prefix: str, depth: int) -> None:
        for fld in descriptor.fields:
            path = f"{prefix}.{fld.name}"
            paths.append(path)
            if fld.message_type is not None and depth < 3:
                walk(fld.message_type, path, depth + 1)

    for name in GAQL_RESOURCES:
        walk(row.fields_by_name[name].message_type, name, 1)
    return sorted(paths)


def tiktok() -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for endpoint, model in TIKTOK_MODELS.items():
        fields: dict[str, list[str]] = {}
        for key, declared in model.swagger_types.items():
            inner = declared[5:-1] if declared.startswith("list[") else declared
            nested = getattr(tiktok_models, inner, None)
            fields[key] = sorted(nested.swagger_types) if hasattr(nested, "swagger_types") else []
        out[endpoint] = fields
    return out


def generate() -> dict[str, Any]:
    return {
        "GOOGLE_MUTATE": google_mutate(),
        "GOOGLE_ASSET_MUTATE": google_asset_mutate(),
        "GAQL_FIELDS": gaql_fields(),
        "TIKTOK_BODIES": tiktok(),
        "META_FIELDS": {edge: sorted(_enum_values(obj.Field)) for edge, obj in META_OBJECTS.items()},
        "X_PROPERTIES": {
            name: sorted(set(res.PROPERTIES) | WIRE_NAMES.get(res, set()))
            for name, res in X_RESOURCES.items()
        },
    }


def render(data: dict[str, Any]) -> str:
    header = {
        "_generated_by": "tests/contracts/sandbox_definitions.py (do not edit by hand)",
        "_sources": "google-ads 34.0.0 (v24), tiktok-business-api-sdk-official 1.1.3, facebook-business, "
        "twitter-ads 11.0.0",
    }
    return json.dumps({**header, **data}, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(generate()), encoding="utf-8")
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
