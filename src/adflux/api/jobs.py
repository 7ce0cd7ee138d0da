"""/api/v1/jobs: job openings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.response_cache import cached_read
from adflux.api.tasks import accepted
from adflux.schemas.common import ApiErrorSchema, TaskAcceptedSchema
from adflux.schemas.imports import ImportFileSchema, ImportFormSchema
from adflux.schemas.jobs import JobListArgsSchema, JobOpeningSchema, JobPageSchema, JobUpdateSchema
from adflux.services import import_uploads
from adflux.services import jobs as jobs_service
from adflux.services.autocommit_reads import reads_only

URL_PREFIX = "/jobs"
blp = Blueprint("jobs", __name__, description="Job openings to advertise")


@blp.route("")
class JobList(MethodView):
    @requires("viewer")
    @blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
    @cached_read("job_openings")
    @blp.arguments(JobListArgsSchema(), location="query")
    @blp.response(200, JobPageSchema)
    @reads_only
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List job openings (filters: status, city, category, modality, q).

        Answers carry an ETag; send it back in If-None-Match to get a 304 while no job opening
        has changed.
        """
        return jobs_service.list_jobs(**args, as_records=True).as_dict()

    @requires("manager")
    @blp.arguments(JobOpeningSchema())
    @blp.response(201, JobOpeningSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="external_ref already used")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a job opening."""
        return jobs_service.create_job(data=data)


@blp.route("/<int:job_id>")
class JobDetail(MethodView):
    @requires("viewer")
    @blp.response(200, JobOpeningSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, job_id: int) -> Any:
        """Get one job opening."""
        return jobs_service.get_job(job_id=job_id)

    @requires("manager")
    @blp.arguments(JobUpdateSchema(partial=True))
    @blp.response(200, JobOpeningSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="The job opening is closed")
    def patch(self, changes: dict[str, Any], job_id: int) -> Any:
        """Update an open job opening."""
        return jobs_service.update_job(job_id=job_id, changes=changes)


@blp.route("/<int:job_id>/close")
class JobClose(MethodView):
    @requires("manager")
    @blp.response(200, JobOpeningSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Already closed")
    def post(self, job_id: int) -> Any:
        """Close a job opening."""
        return jobs_service.close_job(job_id=job_id)


@blp.route("/import")
class JobsImport(MethodView):
    @requires("manager")
    @blp.arguments(ImportFileSchema(), location="files")
    @blp.arguments(ImportFormSchema(), location="form")
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> Any:
        """Import job openings from CSV, JSON or XML in the background: 202 with the task id.

        The file is stored and imported by a task; /api/v1/tasks/<task_id> shows its progress and,
        when done, the report (created, updated, failed and each rejected row's reason). Idempotent
        by external_ref.
        """
        upload = files["file"]
        run = import_uploads.start_import(
            kind="jobs", stream=upload.stream, filename=upload.filename, fmt=form.get("format")
        )
        return accepted(run)
