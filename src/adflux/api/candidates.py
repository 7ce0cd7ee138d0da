"""/api/v1/candidates: candidate profiles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.response_cache import QueryArgs, cached_read
from adflux.api.tasks import accepted
from adflux.schemas.candidates import CandidateListArgsSchema, CandidatePageSchema, CandidateSchema
from adflux.schemas.common import ApiErrorSchema, TaskAcceptedSchema
from adflux.schemas.imports import ImportFileSchema, ImportFormSchema
from adflux.services import candidates as candidates_service
from adflux.services import import_uploads
from adflux.settings import Settings

URL_PREFIX = "/candidates"
blp = Blueprint("candidates", __name__, description="Candidate profiles")


def _outside_segments(args: QueryArgs, settings: Settings) -> tuple[()] | None:
    """A segment's members are in `candidate_segments`, which has no token: never from the cache."""
    return None if any(name == "segment_id" for name, _value in args) else ()


@blp.route("")
class CandidateList(MethodView):
    @requires("viewer")
    @blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
    @cached_read("candidates", vary=_outside_segments)
    @blp.arguments(CandidateListArgsSchema(), location="query")
    @blp.response(200, CandidatePageSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="Unknown segment")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List candidates (filters: city, education_level, desired_category, segment_id).

        Outside a segment, answers carry an ETag; send it back in If-None-Match to get a 304
        while no candidate has changed.
        """
        return candidates_service.list_candidates(**args, as_records=True).as_dict()

    @requires("manager")
    @blp.arguments(CandidateSchema())
    @blp.response(201, CandidateSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="external_ref already used")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a candidate."""
        return candidates_service.create_candidate(data=data)


@blp.route("/<int:candidate_id>")
class CandidateDetail(MethodView):
    @requires("viewer")
    @blp.response(200, CandidateSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, candidate_id: int) -> Any:
        """Get one candidate."""
        return candidates_service.get_candidate(candidate_id=candidate_id)


@blp.route("/import")
class CandidatesImport(MethodView):
    @requires("manager")
    @blp.arguments(ImportFileSchema(), location="files")
    @blp.arguments(ImportFormSchema(), location="form")
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> Any:
        """Import candidates from CSV, JSON or XML in the background: 202 with the task id.

        The file is stored and imported by a task; /api/v1/tasks/<task_id> shows its progress and,
        when done, the report (created, updated, failed and each rejected row's reason). Idempotent
        by external_ref.
        """
        upload = files["file"]
        run = import_uploads.start_import(
            kind="candidates", stream=upload.stream, filename=upload.filename, fmt=form.get("format")
        )
        return accepted(run)
