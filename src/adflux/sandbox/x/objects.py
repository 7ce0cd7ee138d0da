"""X ad objects: campaigns, line items, targeting criteria, tweets and promoted tweets; simulator units."""

from __future__ import annotations

from adflux.sandbox.api import utc_day
from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.state import Unit
from adflux.sandbox.x.media import card_by_uri
from adflux.sandbox.x.protocol import ACC, XProtocol, invalid, public

ENTITY_STATUSES = ("ACTIVE", "PAUSED", "DRAFT")
OBJECTIVES = (
    "WEBSITE_CLICKS",
    "ENGAGEMENTS",
    "REACH",
    "VIDEO_VIEWS",
    "FOLLOWERS",
    "APP_INSTALLS",
    "APP_ENGAGEMENTS",
    "PREROLL_VIEWS",
    "WEBSITE_CONVERSIONS",
)


class XObjects(XProtocol):
    """Create, list, update and delete what an X ads account holds."""

    @route("POST", rf"{ACC}/campaigns")
    def create_campaign(self, request: Request, account: str) -> Response:
        params = self._params(request, "name", "funding_instrument_id")
        for gone in ("start_time", "end_time"):
            if gone in params:  # moved to the line item in v11; the API refuses it on the campaign
                raise invalid(f"{gone} is not a campaign parameter", gone)
        self._get("funding_instrument", account, params["funding_instrument_id"])
        daily = int(params.get("daily_budget_amount_local_micro") or 0)
        if daily <= 0:
            raise invalid(
                "daily_budget_amount_local_micro must be greater than 0", "daily_budget_amount_local_micro"
            )
        status = params.get("entity_status", "ACTIVE")
        if status not in ENTITY_STATUSES:
            raise invalid(f"entity_status must be one of {ENTITY_STATUSES}", "entity_status")
        campaign = self._new(
            "campaign",
            account,
            {
                "name": params["name"],
                "funding_instrument_id": params["funding_instrument_id"],
                "daily_budget_amount_local_micro": daily,
                "entity_status": status,
                "currency": "COP",
                "total_budget_amount_local_micro": int(params.get("total_budget_amount_local_micro") or 0)
                or None,
            },
        )
        return self._ok(public(campaign), request)

    @route("GET", rf"{ACC}/campaigns")
    def list_campaigns(self, request: Request, account: str) -> Response:
        return self._list(request, "campaign", account, {"campaign_ids": "id"})

    @route("POST", rf"{ACC}/line_items")
    def create_line_item(self, request: Request, account: str) -> Response:
        params = self._params(request, "campaign_id", "name", "objective", "product_type", "placements")
        campaign = self._get("campaign", account, params["campaign_id"])
        if params["objective"] not in OBJECTIVES:
            raise invalid(f"objective must be one of {OBJECTIVES}", "objective")
        siblings = [
            obj
            for obj in self.state.all(self.platform, "line_item")
            if obj["campaign_id"] == campaign["id"] and not obj.get("deleted")
        ]
        if any(obj["objective"] != params["objective"] for obj in siblings):
            raise invalid("Line items with different objectives cannot share a campaign", "objective")
        if not params.get("bid_amount_local_micro") and params.get("bid_strategy", "AUTO") != "AUTO":
            raise invalid(
                "bid_amount_local_micro is required unless bid_strategy is AUTO", "bid_amount_local_micro"
            )
        line_item = self._new(
            "line_item",
            account,
            {
                "campaign_id": campaign["id"],
                "name": params["name"],
                "objective": params["objective"],
                "product_type": params["product_type"],
                "placements": params["placements"].split(","),
                "bid_strategy": params.get("bid_strategy", "AUTO"),
                "entity_status": params.get("entity_status", "ACTIVE"),
                "start_time": params.get("start_time"),
                "end_time": params.get("end_time"),
                "daily_budget_amount_local_micro": campaign["daily_budget_amount_local_micro"],
            },
        )
        share = int(params.get("total_budget_amount_local_micro") or 0)
        self.state.put_unit(
            Unit(
                platform=self.platform,
                account=account,
                campaign_id=campaign["id"],
                group_id=line_item["id"],
                daily_budget=0,
                objective="leads" if params["objective"] == "WEBSITE_CONVERSIONS" else "traffic",
                texts=[campaign["name"], params["name"]],
                start=utc_day(params.get("start_time")),
                end=utc_day(params.get("end_time")),
            )
        )
        line_item["_budget_hint"] = share
        self._refresh_campaign(campaign["id"])
        return self._ok(public(line_item), request)

    @route("GET", rf"{ACC}/line_items")
    def list_line_items(self, request: Request, account: str) -> Response:
        return self._list(
            request, "line_item", account, {"campaign_ids": "campaign_id", "line_item_ids": "id"}
        )

    @route("PUT", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def update(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        params = self._params(request)
        if "entity_status" in params:
            if params["entity_status"] not in ENTITY_STATUSES:
                raise invalid(f"entity_status must be one of {ENTITY_STATUSES}", "entity_status")
            obj["entity_status"] = params["entity_status"]
        for key in ("name", "daily_budget_amount_local_micro", "end_time"):
            if key in params:
                obj[key] = params[key]
        self._refresh_campaign(obj["id"] if kind == "campaign" else obj["campaign_id"])
        return self._ok(public(obj), request)

    @route("DELETE", rf"{ACC}/(?P<collection>campaigns|line_items)/(?P<object_id>[0-9a-z]+)")
    def delete(self, request: Request, account: str, collection: str, object_id: str) -> Response:
        kind = collection[:-1]
        obj = self._get(kind, account, object_id)
        obj["deleted"] = True
        self._refresh_campaign(obj["id"] if kind == "campaign" else obj["campaign_id"])
        return self._ok(public(obj), request)

    def _refresh_campaign(self, campaign_id: str) -> None:
        campaign = self.state.get(self.platform, "campaign", campaign_id)
        if campaign is None:
            return
        items = [
            obj for obj in self.state.all(self.platform, "line_item") if obj["campaign_id"] == campaign_id
        ]
        live_items = [obj for obj in items if not obj.get("deleted")] or items
        daily = int(campaign["daily_budget_amount_local_micro"]) // 1_000_000
        for item in items:
            unit = self.state.unit(self.platform, item["id"])
            if unit is None:
                continue
            unit.daily_budget = daily // max(1, len(live_items))
            total = campaign.get("total_budget_amount_local_micro")
            unit.campaign_cap = int(total) // 1_000_000 if total else None
            criteria = [
                c
                for c in self.state.all(self.platform, "targeting_criterion")
                if c["line_item_id"] == item["id"] and not c.get("deleted")
            ]
            unit.interests = tuple(
                c["targeting_value"] for c in criteria if c["targeting_type"] == "BROAD_KEYWORD"
            )
            unit.custom_audience = any(c["targeting_type"] == "CUSTOM_AUDIENCE" for c in criteria)
            promoted = [
                p
                for p in self.state.all(self.platform, "promoted_tweet")
                if p["line_item_id"] == item["id"] and not p.get("deleted")
            ]
            tweets = [self.state.get(self.platform, "tweet", p["tweet_id"]) or {} for p in promoted]
            unit.texts = [campaign["name"], item["name"], *(t.get("full_text", "") for t in tweets)]
            active = (
                campaign["entity_status"] == "ACTIVE"
                and not campaign.get("deleted")
                and item["entity_status"] == "ACTIVE"
                and not item.get("deleted")
                and bool(promoted)
            )
            self.state.set_active(self.platform, item["id"], active)

    # -- targeting, tweets, promoted tweets ----------------------------------------------------------

    @route("POST", rf"{ACC}/targeting_criteria")
    def create_criterion(self, request: Request, account: str) -> Response:
        params = self._params(request, "line_item_id", "targeting_type", "targeting_value")
        item = self._get("line_item", account, params["line_item_id"])
        criterion = self._new(
            "targeting_criterion",
            account,
            {
                "line_item_id": item["id"],
                "targeting_type": params["targeting_type"],
                "targeting_value": params["targeting_value"],
                "operator_type": params.get("operator_type", "EQ"),
            },
        )
        self._refresh_campaign(item["campaign_id"])
        return self._ok(public(criterion), request)

    @route("GET", rf"{ACC}/targeting_criteria")
    def list_criteria(self, request: Request, account: str) -> Response:
        if not request.arg("line_item_ids"):
            raise invalid("line_item_ids is missing", "line_item_ids")
        return self._list(request, "targeting_criterion", account, {"line_item_ids": "line_item_id"})

    @route("POST", rf"{ACC}/tweet")
    def create_tweet(self, request: Request, account: str) -> Response:
        # X posts on behalf of a user with access to the ads account: as_user_id is required.
        params = self._params(request, "text", "as_user_id")
        if not params["as_user_id"].isdigit():
            raise invalid(f"as_user_id {params['as_user_id']} is not a user id", "as_user_id")
        if len(params["text"]) > 280:
            raise invalid("Tweet text is over 280 characters", "text")
        card_uri = params.get("card_uri")
        if card_uri and card_by_uri(self.state, account, card_uri) is None:
            raise invalid(f"card_uri {card_uri} is not a card of this account", "card_uri")
        tweet = self._new(
            "tweet",
            account,
            {
                "full_text": params["text"],
                "as_user_id": params["as_user_id"],
                "name": params.get("name"),
                "nullcast": params.get("nullcast", "true") == "true",
                "card_uri": params.get("card_uri"),
            },
        )
        return self._ok(public(tweet), request)

    @route("GET", rf"{ACC}/tweets")
    def list_tweets(self, request: Request, account: str) -> Response:
        return self._list(request, "tweet", account, {"tweet_ids": "id"})

    @route("POST", rf"{ACC}/promoted_tweets")
    def promote(self, request: Request, account: str) -> Response:
        params = self._params(request, "line_item_id", "tweet_ids")
        item = self._get("line_item", account, params["line_item_id"])
        created = []
        for tweet_id in params["tweet_ids"].split(","):
            self._get("tweet", account, tweet_id)
            created.append(
                public(
                    self._new(
                        "promoted_tweet",
                        account,
                        {
                            "line_item_id": item["id"],
                            "tweet_id": tweet_id,
                            "entity_status": "ACTIVE",
                            "approval_status": "ACCEPTED",
                        },
                    )
                )
            )
        self._refresh_campaign(item["campaign_id"])
        return self._ok(created, request)

    @route("GET", rf"{ACC}/promoted_tweets")
    def list_promoted(self, request: Request, account: str) -> Response:
        return self._list(request, "promoted_tweet", account, {"line_item_ids": "line_item_id"})
