"""/api/v1/candidates: candidate profiles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.schemas.candidates import CandidateListArgsSchema, CandidatePageSchema, CandidateSchema
from adflux.schemas.common import ApiErrorSchema
from adflux.schemas.imports import ImportFileSchema, ImportFormSchema, ImportReportSchema
from adflux.services import candidates as candidates_service
from adflux.services import imports as imports_service

URL_PREFIX = "/candidates"
blp = Blueprint("candidates", __name__, description="Candidate profiles")


@blp.route("")
class CandidateList(MethodView):
    @requires("viewer")
    @blp.arguments(CandidateListArgsSchema(), location="query")
    @blp.response(200, CandidatePageSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="Unknown segment")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List candidates (filters: city, education_level, desired_category, segment_id)."""
        return candidates_service.list_candidates(**args).as_dict()

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
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(400, schema=ApiErrorSchema, description="The file is not what it claims to be")
    def post(self, files: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
        """Import candidates from CSV, JSON or XML; idempotent by external_ref, bad rows reported."""
        upload = files["file"]
        report = imports_service.import_candidates(
            content=upload.read(), fmt=form.get("format"), filename=upload.filename
        )
        return report.as_dict()
