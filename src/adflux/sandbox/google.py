"""Google Ads API REST emulation: googleAds:mutate with temporary ids, searchStream GAQL, Customer Match."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from adflux.sandbox import gaql
from adflux.sandbox.api import PlatformApi
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.simulator import DayMetrics, campaign_days
from adflux.sandbox.state import SandboxState, Unit

logger = logging.getLogger(__name__)

V = r"/(?P<version>v\d+)"
CID = r"(?P<cid>\d{10})"
# Demographic criteria Google's HEC policy forbids for employment ads (the code is the sandbox's own).
FORBIDDEN_CRITERIA = ("ageRange", "gender", "parentalStatus", "incomeRange", "maritalStatus")
RESULT_KEYS = {
    "campaignBudgetOperation": ("campaign_budget", "campaignBudgets", "campaignBudgetResult"),
    "campaignOperation": ("campaign", "campaigns", "campaignResult"),
    "adGroupOperation": ("ad_group", "adGroups", "adGroupResult"),
    "adGroupAdOperation": ("ad_group_ad", "adGroupAds", "adGroupAdResult"),
    "adGroupCriterionOperation": ("ad_group_criterion", "adGroupCriteria", "adGroupCriterionResult"),
    "campaignCriterionOperation": ("campaign_criterion", "campaignCriteria", "campaignCriterionResult"),
}
BIDDING = ("manualCpc", "maximizeClicks", "targetSpend", "maximizeConversions", "manualCpm", "targetCpa")


class OperationError(Exception):
    """One failed operation inside a mutate request."""

    def __init__(self, code: dict[str, str], message: str, index: int, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.index, self.fields = code, message, index, fields

    def as_json(self, version: str) -> dict[str, Any]:
        path = [{"fieldName": "mutate_operations", "index": self.index}]
        path += [{"fieldName": name} for name in self.fields]
        return {"errorCode": self.code, "message": self.message, "location": {"fieldPathElements": path}}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class GoogleApi(PlatformApi):
    """/vNN/customers/{cid}/googleAds:{mutate,search,searchStream}, userLists, offlineUserDataJobs."""

    platform = "google"
    prefix = re.compile(r"^/v\d+/customers")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)

    # -- hooks -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        if not request.headers.get("developer-token"):
            raise ApiError(
                "auth",
                "The developer token is not on the allowlist / missing.",
                status=401,
                extra={"error_code": {"authenticationError": "DEVELOPER_TOKEN_PARAMETER_MISSING"}},
            )
        state = self.state.token_state(self.platform, self.token(request))
        if state != "valid":
            raise ApiError(
                "auth",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                status=401,
                extra={
                    "error_code": {
                        "authenticationError": "OAUTH_TOKEN_EXPIRED" if state == "expired" else "NOT_ADS_USER"
                    }
                },
            )

    def rate_key(self, request: Request) -> str:
        found = re.search(r"/customers/(\d+)", request.path)
        return found.group(1) if found else "developer"

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError(
            "throttle",
            "Resource has been exhausted (e.g. check quota).",
            status=429,
            retry_after=wait,
            extra={
                "error_code": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
                "details": {
                    "quotaErrorDetails": {
                        "rateScope": "DEVELOPER",
                        "rateName": "Requests per developer per minute",
                        "retryDelay": f"{wait:.3f}s",
                    }
                },
            },
        )

    def transient_error(self) -> ApiError:
        return ApiError(
            "server",
            "Internal error encountered.",
            status=500,
            extra={"error_code": {"internalError": "TRANSIENT_ERROR"}},
        )

    def render_error(self, error: ApiError, request: Request) -> Response:
        version = request.path.split("/")[1] if request.path.count("/") > 1 else "v26"
        status = error.status or 400
        grpc_status = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            405: "INVALID_ARGUMENT",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }.get(status, "UNKNOWN")
        message = {"INVALID_ARGUMENT": "Request contains an invalid argument."}.get(
            grpc_status, error.message
        )
        errors = error.extra.get("errors")
        if errors is None:
            entry: dict[str, Any] = {
                "errorCode": error.extra.get("error_code", {"requestError": "UNKNOWN"}),
                "message": error.message,
            }
            if "details" in error.extra:
                entry["details"] = error.extra["details"]
            errors = [entry]
        failure = {
            "@type": _failure_type(version),
            "errors": errors,
            "requestId": self.state.ids.token(),
        }
        return json_response(
            {"error": {"code": status, "message": message, "status": grpc_status, "details": [failure]}},
            status,
        )

    # -- helpers -------------------------------------------------------------------------------

    def _objects(self, kind: str, cid: str) -> list[dict[str, Any]]:
        return [obj for obj in self.state.all(self.platform, kind) if obj["_cid"] == cid]

    def _by_name(self, kind: str, resource_name: str) -> dict[str, Any] | None:
        return self.state.get(self.platform, kind, resource_name.rsplit("/", 1)[-1])

    # -- account ---------------------------------------------------------------------------------

    @route("GET", rf"{V}/customers:listAccessibleCustomers")
    def list_accessible(self, request: Request, version: str) -> Response:
        seen = {
            obj["_cid"] for kind in ("campaign", "user_list") for obj in self.state.all(self.platform, kind)
        }
        return json_response(
            {"resourceNames": [f"customers/{cid}" for cid in sorted(seen)] or ["customers/1234567890"]}
        )

    # -- mutate ----------------------------------------------------------------------------------

    @route("POST", rf"{V}/customers/{CID}/googleAds:mutate")
    def mutate(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
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
        staged: list[tuple[int, str, Callable[[], dict[str, Any]]]] = []
        errors: list[OperationError] = []
        names_in_request: set[str] = set()
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
                        "@type": _failure_type(version),
                        "errors": [error.as_json(version) for error in errors],
                    }
                ],
            }
        return json_response(payload)

    def _resolve(self, name: str, temp: dict[str, str], index: int, field: str) -> str:
        if not name:
            raise OperationError(
                {"requestError": "REQUIRED_FIELD_MISSING"}, f"{field} is required", index, (field,)
            )
        if re.search(r"/-\d+$", name):
            if name not in temp:
                raise OperationError(
                    {"mutateError": "RESOURCE_NOT_FOUND"},
                    f"Temporary id {name} is not defined earlier in the request.",
                    index,
                    (field,),
                )
            return temp[name]
        return name

    def _stage(
        self,
        cid: str,
        op_type: str,
        operation: dict[str, Any],
        temp: dict[str, str],
        index: int,
        names: set[str],
    ) -> Callable[[], dict[str, Any]]:
        """Validate one operation now; return a closure that commits it (atomic requests)."""
        kind, collection, _ = RESULT_KEYS[op_type]
        if "remove" in operation:
            target = self._by_name(kind, self._resolve(operation["remove"], temp, index, "remove"))
            if target is None:
                raise OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, "Resource was not found.", index)

            def remove() -> dict[str, Any]:
                target["status"] = "REMOVED"
                return {"resourceName": target["resourceName"]}

            return remove
        if "update" in operation:
            update = operation["update"]
            target = self._by_name(
                kind, self._resolve(update.get("resourceName", ""), temp, index, "resource_name")
            )
            if target is None or target.get("status") == "REMOVED":
                raise OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, "Resource was not found.", index)
            mask = [
                _camel(item.strip())
                for item in (operation.get("updateMask") or "").split(",")
                if item.strip()
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
        create = dict(operation.get("create") or {})
        checker = getattr(self, f"_check_{kind}")
        checker(cid, create, temp, index, names)
        if kind == "ad_group_ad":
            parent = create["adGroup"].rsplit("/", 1)[-1]
            new_id = self.state.ids.google()
            resource = f"customers/{cid}/{collection}/{parent}~{new_id}"
        elif kind in ("ad_group_criterion", "campaign_criterion"):
            parent = (create.get("adGroup") or create.get("campaign")).rsplit("/", 1)[-1]
            new_id = self.state.ids.google()
            resource = f"customers/{cid}/{collection}/{parent}~{new_id}"
        else:
            new_id = self.state.ids.google()
            resource = f"customers/{cid}/{collection}/{new_id}"
        if create.get("resourceName"):
            temp[create["resourceName"]] = resource

        def commit() -> dict[str, Any]:
            obj = {**create, "resourceName": resource, "id": new_id, "_cid": cid, "_kind": kind}
            obj.setdefault("status", "ENABLED")
            self.state.add(self.platform, kind, obj)
            return {"resourceName": resource}

        return commit

    def _check_campaign_budget(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        amount = int(create.get("amountMicros") or 0)
        if amount <= 0:
            raise OperationError(
                {"campaignBudgetError": "MONEY_AMOUNT_TOO_SMALL"},
                "Budget amount is too small.",
                index,
                ("create", "amount_micros"),
            )
        if amount % 10_000:
            raise OperationError(
                {"campaignBudgetError": "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"},
                "Budget amount must be a multiple of the minimum currency unit.",
                index,
            )

    def _check_campaign(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        name = create.get("name", "")
        if not name:
            raise OperationError(
                {"requiredError": "REQUIRED"},
                "The required field was not present.",
                index,
                ("create", "name"),
            )
        taken = {obj["name"] for obj in self._objects("campaign", cid) if obj.get("status") != "REMOVED"}
        if name in taken or ("campaign", name) in names:
            raise OperationError(
                {"campaignError": "DUPLICATE_CAMPAIGN_NAME"},
                "A campaign already exists with the specified name.",
                index,
                ("create", "name"),
            )
        names.add(("campaign", name))  # type: ignore[arg-type]
        create["campaignBudget"] = self._resolve(
            create.get("campaignBudget", ""), temp, index, "campaign_budget"
        )
        if not create.get("advertisingChannelType"):
            raise OperationError(
                {"requiredError": "REQUIRED"}, "advertising_channel_type is required.", index
            )
        if not any(key in create for key in BIDDING):
            raise OperationError(
                {"biddingError": "BIDDING_STRATEGY_NOT_SUPPORTED"}, "A bidding strategy is required.", index
            )
        if "containsEuPoliticalAdvertising" not in create:
            raise OperationError(
                {"campaignError": "MISSING_EU_POLITICAL_ADVERTISING_SELF_DECLARATION"},
                "The EU political advertising self-declaration is missing.",
                index,
            )
        if create.get("status", "ENABLED") not in ("ENABLED", "PAUSED"):
            raise OperationError({"requestError": "INVALID_ENUM_VALUE"}, "Invalid status.", index)

    def _check_ad_group(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        create["campaign"] = self._resolve(create.get("campaign", ""), temp, index, "campaign")
        if not create.get("name"):
            raise OperationError({"requiredError": "REQUIRED"}, "name is required.", index)
        key = ("ad_group", create["campaign"], create["name"])
        existing = {(obj["campaign"], obj["name"]) for obj in self._objects("ad_group", cid)}
        if key in names or key[1:] in existing:
            raise OperationError(
                {"adGroupError": "DUPLICATE_ADGROUP_NAME"},
                "AdGroup with the same name already exists for the campaign.",
                index,
            )
        names.add(key)  # type: ignore[arg-type]

    def _check_ad_group_ad(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        create["adGroup"] = self._resolve(create.get("adGroup", ""), temp, index, "ad_group")
        ad = create.get("ad") or {}
        if not ad.get("finalUrls"):
            raise OperationError({"adError": "FINAL_URL_REQUIRED"}, "Final urls are required.", index)
        rsa = ad.get("responsiveSearchAd")
        if rsa is None:
            raise OperationError(
                {"adError": "AD_TYPE_NOT_SUPPORTED"}, "Only responsive search ads are emulated.", index
            )
        headlines = [item.get("text", "") for item in rsa.get("headlines", [])]
        descriptions = [item.get("text", "") for item in rsa.get("descriptions", [])]
        if not 3 <= len(headlines) <= 15 or not 2 <= len(descriptions) <= 4:
            raise OperationError(
                {"adError": "TOO_FEW_HEADLINES" if len(headlines) < 3 else "TOO_MANY_HEADLINES"},
                "A responsive search ad needs 3-15 headlines and 2-4 descriptions.",
                index,
            )
        if any(len(text) > 30 for text in headlines) or any(len(text) > 90 for text in descriptions):
            raise OperationError(
                {"stringLengthError": "TOO_LONG"},
                "Headlines are limited to 30 characters and descriptions to 90.",
                index,
            )
        ad.setdefault("id", None)

    def _check_criteria(self, create: dict[str, Any], index: int) -> None:
        forbidden = [key for key in FORBIDDEN_CRITERIA if key in create]
        if forbidden:
            raise OperationError(
                {"criterionError": "CANNOT_TARGET_CRITERION"},
                f"{forbidden[0]} targeting is not allowed for housing, employment or credit ads.",
                index,
            )
        proximity = create.get("proximity")
        if proximity and float(proximity.get("radius", 0)) < 1:
            raise OperationError(
                {"criterionError": "INVALID_PROXIMITY_RADIUS"},
                "Employment ads need a radius of at least 1 km.",
                index,
            )

    def _check_ad_group_criterion(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        create["adGroup"] = self._resolve(create.get("adGroup", ""), temp, index, "ad_group")
        self._check_criteria(create, index)

    def _check_campaign_criterion(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: set[str]
    ) -> None:
        create["campaign"] = self._resolve(create.get("campaign", ""), temp, index, "campaign")
        self._check_criteria(create, index)

    # -- simulator units -------------------------------------------------------------------------

    def _grouped(self, kind: str, cid: str, parent: str) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for obj in self._objects(kind, cid):
            grouped.setdefault(obj[parent], []).append(obj)
        return grouped

    def _refresh_units(self, cid: str) -> None:
        # One pass per kind, then lookups: scanning every kind per campaign and ad group made
        # each mutate O(campaigns²) under the state lock (seconds per call at 1,000 campaigns).
        groups_by_campaign = self._grouped("ad_group", cid, "campaign")
        ads_by_group = self._grouped("ad_group_ad", cid, "adGroup")
        criteria_by_group = self._grouped("ad_group_criterion", cid, "adGroup")
        for campaign in self._objects("campaign", cid):
            groups = groups_by_campaign.get(campaign["resourceName"], [])
            budget = self._by_name("campaign_budget", campaign["campaignBudget"]) or {}
            daily = int(budget.get("amountMicros", 0)) // 1_000_000
            live_groups = [group for group in groups if group.get("status") != "REMOVED"] or groups
            for group in groups:
                ads = ads_by_group.get(group["resourceName"], [])
                criteria = criteria_by_group.get(group["resourceName"], [])
                unit = self.state.unit(self.platform, group["id"]) or self.state.put_unit(
                    Unit(
                        platform=self.platform,
                        account=cid,
                        campaign_id=campaign["id"],
                        group_id=group["id"],
                        daily_budget=0,
                        start=_day(campaign.get("startDate")),
                        end=_day(campaign.get("endDate")),
                    )
                )
                unit.daily_budget = daily // max(1, len(live_groups))
                unit.interests = tuple(c["keyword"]["text"] for c in criteria if "keyword" in c)
                unit.custom_audience = any("userList" in c for c in criteria)
                unit.texts = [campaign["name"], group["name"]] + [
                    item.get("text", "")
                    for ad in ads
                    for part in ("headlines", "descriptions")
                    for item in ad["ad"]["responsiveSearchAd"].get(part, [])
                ]
                live = any(ad.get("status") == "ENABLED" for ad in ads)
                self.state.set_active(
                    self.platform,
                    group["id"],
                    campaign.get("status") == "ENABLED" and group.get("status") == "ENABLED" and live,
                )

    # -- reporting -------------------------------------------------------------------------------

    @route("POST", rf"{V}/customers/{CID}/googleAds:searchStream")
    def search_stream(self, request: Request, version: str, cid: str) -> Response:
        query = gaql.parse(str(request.json().get("query", "")))
        rows = self._run(cid, query)
        batches = [rows[start : start + 10_000] for start in range(0, len(rows), 10_000)] or [[]]
        mask = ",".join(_camel_path(name) for name in query.select)
        return json_response(
            [{"results": batch, "fieldMask": mask, "requestId": self.state.ids.token()} for batch in batches]
        )

    @route("POST", rf"{V}/customers/{CID}/googleAds:search")
    def search(self, request: Request, version: str, cid: str) -> Response:
        body = request.json()
        query = gaql.parse(str(body.get("query", "")))
        rows = self._run(cid, query)
        offset = int(body.get("pageToken") or 0)
        page = rows[offset : offset + 10_000]
        payload: dict[str, Any] = {
            "results": page,
            "fieldMask": ",".join(_camel_path(n) for n in query.select),
            "totalResultsCount": str(len(rows)),
        }
        if offset + len(page) < len(rows):
            payload["nextPageToken"] = str(offset + len(page))
        return json_response(payload)

    def _run(self, cid: str, query: gaql.Query) -> list[dict[str, Any]]:
        resource = query.resource
        sources = {
            "campaign": "campaign",
            "ad_group": "ad_group",
            "ad_group_ad": "ad_group_ad",
            "user_list": "user_list",
            "campaign_budget": "campaign_budget",
        }
        if resource not in sources:
            raise ApiError(
                "validation",
                f"Resource {resource} is not emulated.",
                extra={"error_code": {"queryError": "INVALID_RESOURCE_NAME"}},
            )
        with_metrics = any(name.startswith("metrics.") for name in query.select)
        segmented = "segments.date" in query.select
        span = query.date_range(self.state.today)
        if (with_metrics or segmented) and span is None and segmented:
            raise ApiError(
                "validation",
                "segments.date in SELECT requires a finite date range in WHERE.",
                extra={"error_code": {"queryError": "DATE_RANGE_REQUIRED"}},
            )
        flat_rows = []
        for obj in self._objects(sources[resource], cid):
            base = self._flatten(resource, obj)
            if not query.matches(base):
                continue
            if not with_metrics and not segmented:
                flat_rows.append(base)
                continue
            since, until = span or (date(2000, 1, 1), self.state.today)
            days = self._metrics(resource, obj, cid, since, until)
            if segmented:
                for day, metrics in sorted(days.items()):
                    flat_rows.append({**base, "segments.date": day.isoformat(), **_metric_fields(metrics)})
            else:
                total = DayMetrics.zero()
                for metrics in days.values():
                    total = _add(total, metrics)
                flat_rows.append({**base, **_metric_fields(total)})
        if query.limit is not None:
            flat_rows = flat_rows[: query.limit]
        return [
            _nest({name: row.get(name) for name in query.select if row.get(name) is not None})
            for row in flat_rows
        ]

    def _flatten(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}

        def put(prefix: str, item: dict[str, Any]) -> None:
            row[f"{prefix}.resource_name"] = item["resourceName"]
            row[f"{prefix}.id"] = item["id"]
            for key in (
                "name",
                "status",
                "type",
                "advertisingChannelType",
                "amountMicros",
                "startDate",
                "endDate",
            ):
                if key in item:
                    row[f"{prefix}.{_snake(key)}"] = item[key]

        if resource == "ad_group_ad":
            row["ad_group_ad.resource_name"] = obj["resourceName"]
            row["ad_group_ad.status"] = obj.get("status")
            row["ad_group_ad.ad.id"] = obj["id"]
            row["ad_group_ad.ad.final_urls"] = obj["ad"].get("finalUrls")
            group = self._by_name("ad_group", obj["adGroup"]) or {}
            put("ad_group", group)
            obj = group
            resource = "ad_group"
        if resource == "ad_group":
            put("ad_group", obj)
            campaign = self._by_name("campaign", obj["campaign"]) or {}
            put("campaign", campaign)
        elif resource in ("campaign", "user_list", "campaign_budget"):
            put(resource, obj)
        if resource == "user_list":
            row["user_list.size_for_search"] = str(len(obj.get("_hashes", ())))
        return row

    def _metrics(
        self, resource: str, obj: dict[str, Any], cid: str, since: date, until: date
    ) -> dict[date, DayMetrics]:
        campaign_id = obj["id"] if resource == "campaign" else None
        if resource in ("ad_group", "ad_group_ad"):
            group = obj if resource == "ad_group" else (self._by_name("ad_group", obj["adGroup"]) or {})
            unit = self.state.unit(self.platform, group.get("id", ""))
            if unit is None:
                return {}
            campaign_id, wanted = unit.campaign_id, [unit.group_id]
        units = [
            u
            for u in self.state.units.values()
            if u.platform == self.platform and u.campaign_id == campaign_id
        ]
        per_group = campaign_days(units, since, until, self.state.today)
        if resource == "campaign":
            wanted = [unit.group_id for unit in units]
        totals: dict[date, DayMetrics] = {}
        for group_id in wanted:
            for day, metrics in per_group.get(group_id, {}).items():
                totals[day] = _add(totals.get(day, DayMetrics.zero()), metrics)
        return totals

    # -- Customer Match ----------------------------------------------------------------------------

    @route("POST", rf"{V}/customers/{CID}/userLists:mutate")
    def mutate_user_lists(self, request: Request, version: str, cid: str) -> Response:
        results = []
        for operation in request.json().get("operations", []):
            create = operation.get("create") or {}
            if not create.get("name"):
                raise ApiError(
                    "validation", "name is required", extra={"error_code": {"requiredError": "REQUIRED"}}
                )
            if any(obj["name"] == create["name"] for obj in self._objects("user_list", cid)):
                raise ApiError(
                    "validation",
                    "A user list with this name already exists.",
                    extra={"error_code": {"userListError": "NAME_ALREADY_USED"}},
                )
            new_id = self.state.ids.google()
            resource = f"customers/{cid}/userLists/{new_id}"
            self.state.add(
                self.platform,
                "user_list",
                {
                    **create,
                    "id": new_id,
                    "resourceName": resource,
                    "_cid": cid,
                    "_kind": "user_list",
                    "_hashes": set(),
                    "status": "ENABLED",
                },
            )
            results.append({"resourceName": resource})
        return json_response({"results": results})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs:create")
    def create_job(self, request: Request, version: str, cid: str) -> Response:
        job = request.json().get("job") or {}
        user_list = (job.get("customerMatchUserListMetadata") or {}).get("userList", "")
        if self._by_name("user_list", user_list) is None:
            raise ApiError(
                "validation",
                "The user list does not exist.",
                extra={"error_code": {"offlineUserDataJobError": "INVALID_USER_LIST_ID"}},
            )
        new_id = self.state.ids.google()
        resource = f"customers/{cid}/offlineUserDataJobs/{new_id}"
        self.state.add(
            self.platform,
            "offline_job",
            {
                "id": new_id,
                "resourceName": resource,
                "_cid": cid,
                "userList": user_list,
                "status": "PENDING",
                "_hashes": [],
            },
        )
        return json_response({"resourceName": resource})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs/(?P<job_id>\d+):addOperations")
    def add_operations(self, request: Request, version: str, cid: str, job_id: str) -> Response:
        job = self.state.get(self.platform, "offline_job", job_id)
        if job is None:
            raise ApiError("not_found", "Job not found.", status=404)
        for operation in request.json().get("operations", []):
            for identifier in (operation.get("create") or {}).get("userIdentifiers", []):
                digest = identifier.get("hashedEmail", "")
                if not re.fullmatch(r"[0-9a-f]{64}", digest):
                    raise ApiError(
                        "validation",
                        "Hashed email must be a lowercase SHA-256 hex digest.",
                        extra={"error_code": {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"}},
                    )
                job["_hashes"].append(digest)
        return json_response({})

    @route("POST", rf"{V}/customers/{CID}/offlineUserDataJobs/(?P<job_id>\d+):run")
    def run_job(self, request: Request, version: str, cid: str, job_id: str) -> Response:
        job = self.state.get(self.platform, "offline_job", job_id)
        if job is None:
            raise ApiError("not_found", "Job not found.", status=404)
        user_list = self._by_name("user_list", job["userList"])
        if user_list is not None:
            user_list["_hashes"].update(job["_hashes"])
        job["status"] = "SUCCESS"
        return json_response({"name": f"customers/{cid}/operations/{self.state.ids.google()}", "done": True})


def _failure_type(version: str) -> str:
    return f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel_path(path: str) -> str:
    return ".".join(_camel(part) for part in path.split("."))


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        parts = [_camel(part) for part in path.split(".")]
        cursor = nested
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return nested


def _metric_fields(metrics: DayMetrics) -> dict[str, Any]:
    return {
        "metrics.impressions": str(metrics.impressions),
        "metrics.clicks": str(metrics.clicks),
        "metrics.interactions": str(metrics.clicks),
        "metrics.cost_micros": str(metrics.spend_micros),
        "metrics.conversions": float(metrics.applications),
        "metrics.ctr": metrics.clicks / metrics.impressions if metrics.impressions else 0.0,
        "metrics.average_cpc": metrics.spend_micros / metrics.clicks if metrics.clicks else 0.0,
    }


def _add(left: DayMetrics, right: DayMetrics) -> DayMetrics:
    return DayMetrics(
        left.impressions + right.impressions,
        left.reach + right.reach,
        left.clicks + right.clicks,
        left.engagements + right.engagements,
        left.spend_micros + right.spend_micros,
        left.applications + right.applications,
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
