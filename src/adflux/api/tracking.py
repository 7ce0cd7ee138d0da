"""First-hand measurement on the web: the public redirect `/r/<code>` and, under /api/v1/tracking,
the portal's signed postbacks, the first-hand report and erasure on request."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api import tracking_fast_path
from adflux.api.auth import public, requires
from adflux.error_responses import error_response
from adflux.schemas.common import ApiErrorSchema
from adflux.schemas.tracking import REPORT_WINDOW_DAYS, FirstHandReportArgsSchema, FirstHandReportSchema
from adflux.services import rate_limits
from adflux.services.errors import NotFound, ServiceUnavailable, Unauthenticated, ValidationFailed
from adflux.services.reports import DateRange
from adflux.services.tracking import clicks, conversions, first_hand, postbacks, privacy, signatures
from adflux.settings import current_settings

URL_PREFIX = "/tracking"
blp = Blueprint("tracking", __name__, description="First-hand applications: postbacks, report, erasure")


@blp.route("/postbacks")
class Postbacks(MethodView):
    @public
    @blp.alt_response(200, description="Received, stored, duplicates, attributed and unattributed counts")
    @blp.alt_response(400, schema=ApiErrorSchema, description="Malformed event (the message names the field)")
    @blp.alt_response(401, schema=ApiErrorSchema, description="Unsigned, wrongly signed, stale or replayed")
    @blp.alt_response(413, schema=ApiErrorSchema, description="Body over ADFLUX_MAX_JSON_BYTES")
    def post(self) -> Response:
        """Application events from the portal, one or {"events": [...]}; signed with X-AdFlux-Signature.

        Authenticated by the HMAC signature (not a token): unsigned, wrongly signed, stale or replayed
        bodies get 401; a malformed event gets 400 naming the field; duplicates are acknowledged.
        """
        body = request.get_data(cache=False)
        try:
            signatures.verify(request.headers.get(signatures.HEADER), body)
        except Unauthenticated as error:
            return error_response(401, error.message)
        try:
            data = json.loads(body)
        except ValueError:
            return error_response(400, "The body is not JSON")
        try:
            result = postbacks.ingest(postbacks.parse_body(data))
        except ValidationFailed as error:
            return error_response(400, error.message, errors=error.errors)
        return jsonify(result.__dict__)


@blp.route("/report")
class Report(MethodView):
    @requires("viewer")
    @blp.arguments(FirstHandReportArgsSchema(), location="query")
    @blp.response(200, FirstHandReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """First-hand applications and CPA beside the platforms' figures, per campaign and platform.

        Over `since`..`until`, by default the last 30 days to today (Bogotá), at most 731 days. A
        page of campaigns at a time: `limit` campaigns (default 100, at most 1,000), each with a row
        per platform; when `next_after` is not null, pass it as `after` for the next campaigns.
        `unattributed` counts the range's applications owed to no campaign.
        """
        window = DateRange.checked(
            args.pop("since", None), args.pop("until", None), default_days=REPORT_WINDOW_DAYS
        )
        return first_hand.first_hand_report(since=window.since, until=window.until, **args)


@blp.route("/conversions")
class Conversions(MethodView):
    @requires("viewer")
    @blp.alt_response(200, description="Conversion uploads per platform and status")
    def get(self) -> Any:
        """Applications sent (or waiting to be sent) to each platform's conversions API."""
        return conversions.upload_counts()

    @requires("manager")
    @blp.alt_response(200, description="Queued, sent, skipped and failed per platform")
    def post(self) -> Any:
        """Queue and send pending conversions now (the beat does it every minute)."""
        return conversions.send_pending().__dict__


@blp.route("/erasures")
class Erasures(MethodView):
    @requires("admin")
    @blp.alt_response(200, description="How many application events lost the candidate's identifiers")
    @blp.alt_response(400, schema=ApiErrorSchema, description="Neither a usable e-mail nor phone")
    def post(self) -> Response:
        """Erase a candidate's identifiers from first-hand data ({"email": ..., "phone": ...}); audited."""
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return error_response(400, "Send a JSON object with email and/or phone")
        email, phone = data.get("email"), data.get("phone")
        if not all(value is None or isinstance(value, str) for value in (email, phone)):
            return error_response(400, "email and phone must be text")
        try:
            erased = privacy.erase(email=email, phone=phone)
        except ValidationFailed as error:
            return error_response(400, error.message, errors=error.errors)
        return jsonify({"application_events": erased})


def init_redirect(app: Flask) -> None:
    """The public tracking redirect: record the click, then 302 to the job's page (known links with
    a shared buffer are answered by the WSGI fast path in front of Flask, see tracking_fast_path)."""
    tracking_fast_path.install(app)

    @app.get("/r/<code>")
    def tracking_redirect(code: str) -> Response:
        address = request.remote_addr
        limit = current_settings().tracking_clicks_per_address_per_minute
        count = 0
        if limit and address:
            count, _ = rate_limits.store().window_hit(f"click:{address}", limit, 60_000, rate_limits.now_ms())
        try:
            if limit and address and count > limit:  # a flood from one address: sent on, not counted
                return redirect(clicks.landing_url(code), 302)  # type: ignore[return-value]
            target = clicks.record_click(
                code=code, args=request.args, address=address, user_agent=request.user_agent.string
            )
        except NotFound as error:
            return error_response(404, error.message)
        except ServiceUnavailable as error:
            return error_response(503, error.message)
        response = redirect(target, 302)
        response.headers["Cache-Control"] = "no-store"
        return response  # type: ignore[return-value]
