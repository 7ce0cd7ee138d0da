"""What Google Ads accepts in a create: budgets, campaigns, ad groups, responsive search ads, criteria."""

from __future__ import annotations

import re
from typing import Any

from adflux.sandbox.google.protocol import GoogleProtocol

# Demographic criteria Google's HEC policy forbids for employment ads (the code is the sandbox's own).
FORBIDDEN_CRITERIA = ("ageRange", "gender", "parentalStatus", "incomeRange", "maritalStatus")
BIDDING = ("manualCpc", "maximizeClicks", "targetSpend", "maximizeConversions", "manualCpm", "targetCpa")
# Names already taken within one mutate request: ("campaign", name) and ("ad_group", campaign, name).
NamesInRequest = set[tuple[str, ...]]


class OperationError(Exception):
    """One failed operation inside a mutate request."""

    def __init__(self, code: dict[str, str], message: str, index: int, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.index, self.fields = code, message, index, fields

    def as_json(self, version: str) -> dict[str, Any]:
        path = [{"fieldName": "mutate_operations", "index": self.index}]
        path += [{"fieldName": name} for name in self.fields]
        return {"errorCode": self.code, "message": self.message, "location": {"fieldPathElements": path}}


class GoogleValidation(GoogleProtocol):
    """``_check_<kind>`` for each creatable kind; each raises OperationError or completes ``create``."""

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

    def _check_campaign_budget(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
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
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
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
        names.add(("campaign", name))
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
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
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
        names.add(key)

    def _check_ad_group_ad(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
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
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
    ) -> None:
        create["adGroup"] = self._resolve(create.get("adGroup", ""), temp, index, "ad_group")
        self._check_criteria(create, index)

    def _check_campaign_criterion(
        self, cid: str, create: dict[str, Any], temp: dict[str, str], index: int, names: NamesInRequest
    ) -> None:
        create["campaign"] = self._resolve(create.get("campaign", ""), temp, index, "campaign")
        self._check_criteria(create, index)
