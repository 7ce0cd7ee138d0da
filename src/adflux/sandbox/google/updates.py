"""Google Ads ``update`` operations: the updateMask may name only fields the resource lets change.

An immutable field in the mask is ``MUTATE_NOT_ALLOWED``; a masked field the body does not carry
(which Google would clear) or does not know is ``FIELD_NOT_FOUND``; a budget must stay positive.
"""

from __future__ import annotations

from typing import Any

from adflux.sandbox.google.mutate import Commit, GoogleMutate
from adflux.sandbox.google.protocol import camel
from adflux.sandbox.google.validation import OperationError

MUTABLE = {
    "campaign_budget": {"amountMicros", "name", "deliveryMethod"},
    "campaign": {"name", "status", "endDate", "startDate", "networkSettings"},
    "ad_group": {"name", "status", "cpcBidMicros"},
    "ad_group_ad": {"status"},
    "ad_group_criterion": {"status"},
    "campaign_criterion": {"bidModifier"},
}


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
        return super()._stage_update(kind, operation, temp, index)
