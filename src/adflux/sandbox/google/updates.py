"""Google Ads ``update`` operations: the updateMask may name only fields the resource lets change.

An immutable field in the mask is ``MUTATE_NOT_ALLOWED``; a masked field the body does not carry
(which Google would clear) or does not know is ``FIELD_NOT_FOUND``; a budget must stay positive.
"""

from __future__ import annotations

from typing import Any

from adflux.sandbox.google.mutate import RESULT_KEYS, Commit, GoogleMutate
from adflux.sandbox.google.protocol import camel
from adflux.sandbox.google.validation import OperationError

MUTABLE = {
    "campaign_budget": {"amountMicros", "name", "deliveryMethod"},
    "campaign": {"name", "status", "endDateTime", "startDateTime", "networkSettings"},
    "ad_group": {"name", "status", "cpcBidMicros"},
    "ad_group_ad": {"status"},
    "ad_group_criterion": {"status"},
    "campaign_criterion": {"bidModifier"},
    "ad": {"finalUrls", "responsiveSearchAd"},
}
# AdService's ads (customers/{cid}/ads/{ad_id}) can be updated in a googleAds:mutate too: an ad's
# copy changes in place, keeping its ad group ad, id and statistics.
RESULT_KEYS.setdefault("adOperation", ("ad", "ads", "adResult"))


class GoogleUpdates(GoogleMutate):
    """Field-mask rules on top of the generic update staging."""

    def _stage_update(self, kind: str, operation: dict[str, Any], temp: dict[str, str], index: int) -> Commit:
        update = operation.get("update") or {}
        mask = [
            camel(item.strip()) for item in (operation.get("updateMask") or "").split(",") if item.strip()
        ]
        allowed = MUTABLE.get(kind, set())
        for field in mask:
            if field not in allowed:
                raise OperationError(
                    {"fieldMaskError": "FIELD_NOT_FOUND"}
                    if field not in update
                    else {"mutateError": "MUTATE_NOT_ALLOWED"},
                    f"The field '{field}' cannot be updated on {kind}.",
                    index,
                    ("update_mask",),
                )
            if field not in update:
                raise OperationError(
                    {"fieldMaskError": "FIELD_NOT_FOUND"}, f"The masked field '{field}' is not set.", index
                )
        if kind == "campaign_budget" and "amountMicros" in update and int(update["amountMicros"]) <= 0:
            raise OperationError(
                {"campaignBudgetError": "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"},
                "The budget amount must be positive.",
                index,
                ("amount_micros",),
            )
        if kind == "ad":
            return self._stage_ad_update(update, mask, index)
        return super()._stage_update(kind, operation, temp, index)

    def _stage_ad_update(self, update: dict[str, Any], mask: list[str], index: int) -> Commit:
        ad_id = str(update.get("resourceName", "")).rsplit("/", 1)[-1]
        target = self.state.get(self.platform, "ad_group_ad", ad_id)
        if target is None or target.get("status") == "REMOVED":
            raise OperationError({"mutateError": "RESOURCE_NOT_FOUND"}, "Resource was not found.", index)
        rsa = update.get("responsiveSearchAd") or {}
        headlines, descriptions = rsa.get("headlines") or [], rsa.get("descriptions") or []
        if "responsiveSearchAd" in mask and not (3 <= len(headlines) <= 15 and 2 <= len(descriptions) <= 4):
            raise OperationError(
                {"adError": "TOO_FEW_HEADLINES" if len(headlines) < 3 else "TOO_FEW_DESCRIPTIONS"},
                "A responsive search ad needs 3-15 headlines and 2-4 descriptions.",
                index,
                ("responsive_search_ad",),
            )
        if any(len(h.get("text", "")) > 30 for h in headlines):
            raise OperationError({"adError": "LINE_TOO_WIDE"}, "A headline is over 30 characters.", index)

        def apply() -> dict[str, Any]:
            for key in mask:
                target["ad"][key] = update[key]
            return {"resourceName": update["resourceName"]}

        return apply
