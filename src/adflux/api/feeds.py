"""/api/v1/feeds: job feeds, their runs, and reading one now."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.automation import (
    FeedRunArgsSchema,
    FeedRunPageSchema,
    FeedRunSchema,
    FeedSchema,
    FeedUpdateSchema,
)
from adflux.schemas.common import ApiErrorSchema
from adflux.services.feeds import registry

URL_PREFIX = "/feeds"
blp = Blueprint("feeds", __name__, description="Job feeds: where openings come from, read on a schedule")


@blp.route("")
class FeedList(MethodView):
    @requires("viewer")
    @blp.response(200, FeedSchema(many=True))
    def get(self) -> Any:
        """List the job feeds."""
        return registry.list_feeds()

    @requires("manager")
    @blp.arguments(FeedSchema())
    @blp.response(201, FeedSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The name is taken")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a feed (XML, JSON, JSON lines or CSV; URL or file) with its mapping and schedule."""
        return registry.create_feed(data=data)


@blp.route("/<int:feed_id>")
class FeedDetail(MethodView):
    @requires("viewer")
    @blp.response(200, FeedSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, feed_id: int) -> Any:
        """One feed."""
        return registry.get_feed(feed_id=feed_id)

    @requires("manager")
    @blp.arguments(FeedUpdateSchema(partial=True))
    @blp.response(200, FeedSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def patch(self, changes: dict[str, Any], feed_id: int) -> Any:
        """Change a feed (checked whole, as on registration)."""
        return registry.update_feed(feed_id=feed_id, changes=changes)

    @requires("manager")
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def delete(self, feed_id: int) -> None:
        """Remove a feed; its openings stay."""
        registry.delete_feed(feed_id=feed_id)


@blp.route("/<int:feed_id>/run")
class FeedRunNow(MethodView):
    @requires("manager")
    @blp.response(202, FeedRunSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, feed_id: int) -> Any:
        """Read the feed now, in the background; follow the run at its Location."""
        run = registry.start_run(feed_id=feed_id)
        return run, 202, {"Location": url_for("feeds.FeedRunDetail", run_id=run.id)}


@blp.route("/runs")
class FeedRunList(MethodView):
    @requires("viewer")
    @blp.arguments(FeedRunArgsSchema(), location="query")
    @blp.response(200, FeedRunPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Feed runs, newest first (filter: feed_id)."""
        return registry.list_runs(**args).as_dict()


@blp.route("/runs/<int:run_id>")
class FeedRunDetail(MethodView):
    @requires("viewer")
    @blp.response(200, FeedRunSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, run_id: int) -> Any:
        """One feed run: what it found, and the rejected rows with their reasons."""
        return registry.get_run(run_id=run_id)
