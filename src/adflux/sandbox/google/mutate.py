"""googleAds:mutate: atomic or partial-failure batches of create, update and remove with temporary ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adflux.sandbox.definitions import google_mutate_unknown
from adflux.sandbox.google.assets import GoogleAssets
from adflux.sandbox.google.delivery import GoogleDelivery
from adflux.sandbox.google.protocol import CID, V, camel, failure_type, invalid_json_payload
from adflux.sandbox.google.validation import GoogleValidation, NamesInRequest, OperationError
from adflux.sandbox.http import ApiError, Request, Response, json_response, route

RESULT_KEYS = {
    "campaignBudgetOperation": ("campaign_budget", "campaignBudgets", "campaignBudgetResult"),
    "campaignOperation": ("campaign", "campaigns", "campaignResult"),
    "adGroupOperation": ("ad_group", "adGroups", "adGroupResult"),
    "adGroupAdOperation": ("ad_group_ad", "adGroupAds", "adGroupAdResult"),
    "adGroupCriterionOperation": ("ad_group_criterion", "adGroupCriteria", "adGroupCriterionResult"),
    "campaignCriterionOperation": ("campaign_criterion", "campaignCriteria", "campaignCriterionResult"),
    "adGroupAssetOperation": ("ad_group_asset", "adGroupAssets", "adGroupAssetResult"),
}
Commit = Callable[[], dict[str, Any]]


class GoogleMutate(GoogleAssets, GoogleValidation, GoogleDelivery):
    """Validates every operation first, then commits them all (or, with partialFailure, the valid ones)."""

    @route("POST", rf"{V}/customers/{CID}/googleAds:mutate")
    def mutate(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
        unknown = google_mutate_unknown(body)
        if unknown:
            return invalid_json_payload(unknown)
        operations = body.get("mutateOperations") or []
        if not operations:
            raise ApiError(
                "validation",
                "mutate_operations is required",
                extra={"error_code": {"requestError": "REQUIRED_FIELD_MISSING"}},
            )
        partial = bool(body.get("partialFailure"))
        validate_only = bool(body.get("validateOnly"))
        temp: dict[str, str] = {}
        staged: list[tuple[int, str, Commit]] = []
        errors: list[OperationError] = []
        names_in_request: NamesInRequest = set()
        for index, wrapper in enumerate(operations):
            ((op_type, operation),) = wrapper.items()
            if op_type not in RESULT_KEYS:
                errors.append(
                    OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, f"Unsupported {op_type}", index)
                )
                continue
            try:
                commit = self._stage(cid, op_type, operation, temp, index, names_in_request)
            except OperationError as exc:
                errors.append(exc)
                continue
            staged.append((index, op_type, commit))
        if errors and not partial:
            raise ApiError(
                "validation",
                errors[0].message,
                extra={"errors": [error.as_json(version) for error in errors]},
            )
        results: list[dict[str, Any]] = [{} for _ in operations]
        if validate_only:
            return json_response({})
        for index, op_type, commit in staged:
            results[index] = {RESULT_KEYS[op_type][2]: commit()}
        self._refresh_units(cid)
        payload: dict[str, Any] = {"mutateOperationResponses": results}
        if errors:
            payload["partialFailureError"] = {
                "code": 3,
                "message": "Multiple errors in 'details'. First error: " + errors[0].message,
                "details": [
                    {
                        "@type": failure_type(version),
                        "errors": [error.as_json(version) for error in errors],
                    }
                ],
            }
        return json_response(payload)

    def _stage(
        self,
        cid: str,
        op_type: str,
        operation: dict[str, Any],
        temp: dict[str, str],
        index: int,
        names: NamesInRequest,
    ) -> Commit:
        """Validate one operation now; return a closure that commits it (atomic requests)."""
        kind, collection, _ = RESULT_KEYS[op_type]
        if "remove" in operation:
            return self._stage_remove(kind, operation, temp, index)
        if "update" in operation:
            return self._stage_update(kind, operation, temp, index)
        create = dict(operation.get("create") or {})
        checker = getattr(self, f"_check_{kind}")
        checker(cid, create, temp, index, names)
        new_id, resource = self._new_resource(cid, kind, collection, create)
        if create.get("resourceName"):
            temp[create["resourceName"]] = resource

        def commit() -> dict[str, Any]:
            obj = {**create, "resourceName": resource, "id": new_id, "_cid": cid, "_kind": kind}
            obj.setdefault("status", "ENABLED")
            self.state.add(self.platform, kind, obj)
            return {"resourceName": resource}

        return commit

    def _stage_remove(self, kind: str, operation: dict[str, Any], temp: dict[str, str], index: int) -> Commit:
        target = self._by_name(kind, self._resolve(operation["remove"], temp, index, "remove"))
        if target is None:
            raise OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, "Resource was not found.", index)

        def remove() -> dict[str, Any]:
            target["status"] = "REMOVED"
            return {"resourceName": target["resourceName"]}

        return remove

    def _stage_update(self, kind: str, operation: dict[str, Any], temp: dict[str, str], index: int) -> Commit:
        update = operation["update"]
        target = self._by_name(
            kind, self._resolve(update.get("resourceName", ""), temp, index, "resource_name")
        )
        if target is None or target.get("status") == "REMOVED":
            raise OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, "Resource was not found.", index)
        mask = [
            camel(item.strip()) for item in (operation.get("updateMask") or "").split(",") if item.strip()
        ]
        if not mask:
            raise OperationError(
                {"fieldMaskError": "FIELD_MASK_MISSING"}, "The field mask is missing.", index
            )
        if "status" in update and update["status"] not in ("ENABLED", "PAUSED"):
            raise OperationError(
                {"requestError": "INVALID_ENUM_VALUE"}, "Invalid status.", index, ("status",)
            )

        def apply() -> dict[str, Any]:
            for key in mask:
                if key in update:
                    target[key] = update[key]
            return {"resourceName": target["resourceName"]}

        return apply

    def _new_resource(self, cid: str, kind: str, collection: str, create: dict[str, Any]) -> tuple[str, str]:
        """A fresh id and its resource name; ads and criteria are named ``<parent id>~<id>``."""
        prefix = ""
        if kind == "ad_group_ad":
            prefix = create["adGroup"].rsplit("/", 1)[-1] + "~"
        elif kind in ("ad_group_criterion", "campaign_criterion"):
            prefix = (create.get("adGroup") or create["campaign"]).rsplit("/", 1)[-1] + "~"
        new_id = self.state.ids.google()
        if kind == "ad_group_asset":  # named <ad group id>~<asset id>~<field type>
            group, asset = (create[key].rsplit("/", 1)[-1] for key in ("adGroup", "asset"))
            return new_id, f"customers/{cid}/{collection}/{group}~{asset}~{create['fieldType']}"
        return new_id, f"customers/{cid}/{collection}/{prefix}{new_id}"
