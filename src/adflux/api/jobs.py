"""/api/v1/jobs: job openings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.reads import reads_only
from adflux.api.response_cache import cached_read
from adflux.schemas.common import ApiErrorSchema
from adflux.schemas.imports import ImportFileSchema, ImportFormSchema, ImportReportSchema
from adflux.schemas.jobs import JobListArgsSchema, JobOpeningSchema, JobPageSchema, JobUpdateSchema
from adflux.services import imports as imports_service
from adflux.services import jobs as jobs_service

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
        return jobs_service.list_jobs(**args).as_dict()

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
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(400, schema=ApiErrorSchema, description="The file is not what it claims to be")
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
        """Import job openings from CSV, JSON or XML; idempotent by external_ref, bad rows reported."""
        upload = files["file"]
        report = imports_service.import_jobs(
            content=upload.read(), fmt=form.get("format"), filename=upload.filename
        )
        return report.as_dict()
