"""Background work: task runs with live progress."""

from __future__ import annotations

from flask import abort, jsonify, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import TASK_STATUSES
from adflux.services import dashboard, task_runs
from adflux.web.auth import login_required
from adflux.web.formatting import local_datetime, stage_label, status_label
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number


@bp.get("/tasks")
@login_required("viewer")
def task_list() -> str:
    """Background task runs with live progress."""
    status = request.args.get("status") or None
    if status not in (None, *TASK_STATUSES):
        abort(404)
    page = task_runs.list_task_runs(status=status, page=page_number(), page_size=PAGE_SIZE)
    return render_template("tasks.html", page=page, status=status, statuses=TASK_STATUSES)


@bp.get("/tasks/progress.json")
@login_required("viewer")
def task_progress() -> BaseResponse:
    """Progress of the task runs named by `id` parameters, polled by the pages that show them."""
    runs = dashboard.task_runs(task_ids=request.args.getlist("id"))
    return jsonify(
        {
            "tasks": [
                {
                    "id": run.id,
                    "status": run.status,
                    "status_label": status_label(run.status),
                    "progress": round(run.progress or 0.0, 1),
                    "stage": stage_label(run.stage),
                    "error": run.error,
                    "finished": run.status in ("succeeded", "failed"),
                    "finished_at": local_datetime(run.finished_at) if run.finished_at else None,
                }
                for run in runs
            ]
        }
    )
