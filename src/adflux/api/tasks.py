"""/api/v1/tasks: progress of background work."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.common import ApiErrorSchema
from adflux.schemas.tasks import TaskListArgsSchema, TaskRunPageSchema, TaskRunSchema
from adflux.services import task_runs

URL_PREFIX = "/tasks"
blp = Blueprint("tasks", __name__, description="Background task progress")


def accepted(run: Any) -> tuple[dict[str, Any], int]:
    """The 202 body for background work."""
    return {
        "task_id": run.id,
        "status": run.status,
        "status_url": url_for("tasks.TaskDetail", task_id=run.id),
    }, 202


@blp.route("")
class TaskList(MethodView):
    @requires("viewer")
    @blp.arguments(TaskListArgsSchema(), location="query")
    @blp.response(200, TaskRunPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List task runs, newest first."""
        return task_runs.list_task_runs(**args).as_dict()


@blp.route("/<string:task_id>")
class TaskDetail(MethodView):
    @requires("viewer")
    @blp.response(200, TaskRunSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, task_id: str) -> Any:
        """Get one task run with its progress."""
        return task_runs.get_task_run(task_id=task_id)
