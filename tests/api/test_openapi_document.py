"""The OpenAPI document is written when first read, not at every app start, and only once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from adflux.extensions import api


def test_the_document_is_written_on_first_read_once_and_whole(app: Flask):
    # Building the app routed every blueprint but documented none of them yet.
    assert len(api._undocumented) >= 20
    assert app.url_map.bind("localhost").match("/api/v1/jobs", method="GET")
    assert not api._spec.to_dict().get("paths")
    client = app.test_client()
    with ThreadPoolExecutor(max_workers=4) as pool:  # several first readers at once
        answers = list(pool.map(lambda _: client.get("/api/v1/openapi.json"), range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.data for a in answers}) == 1  # documented once: every reader got the same
    document = answers[0].get_json()
    assert not api._undocumented
    assert "/api/v1/jobs" in document["paths"] and "/api/v1/segmentation/train" in document["paths"]
    tags = [t["name"] for t in document["tags"]]
    assert tags[:3] == ["jobs", "candidates", "tasks"] and len(tags) == len(set(tags))


def test_requires_documents_what_the_smorest_decorators_would_without_their_wrappers():
    """`requires` writes the 401/429/403 answers and the security requirement straight into the
    method's documentation: the same operation `alt_response` + `Blueprint.doc` wrote."""
    import marshmallow as ma
    from flask.views import MethodView
    from flask_smorest import Api, Blueprint

    from adflux.api.auth import SECURITY, requires
    from adflux.schemas.common import ApiErrorSchema

    class Thing(ma.Schema):
        name = ma.fields.String()

    def operations(decorate) -> dict:
        app = Flask("probe")
        app.config.update(API_TITLE="probe", API_VERSION="1", OPENAPI_VERSION="3.0.3")
        blp = Blueprint("things", __name__, url_prefix="/things")

        @blp.route("/")
        class Things(MethodView):
            @decorate("manager")
            @blp.response(200, Thing(many=True))
            def get(self):
                return []

            @decorate("viewer")
            @blp.alt_response(401, schema=ApiErrorSchema, description="own 401")
            @blp.response(201, Thing)
            def post(self):
                return {}

        api = Api(app)
        api.register_blueprint(blp)
        return api.spec.to_dict()["paths"]["/things/"]

    def by_hand(role: str):
        doc = Blueprint("by-hand", __name__)
        retry = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
        too_many = "Over ADFLUX_API_RATE_LIMIT_PER_MINUTE calls for this token (see Retry-After)"

        def decorator(func):
            documented = func
            answered = getattr(func, "_apidoc", {}).get("response", {}).get("responses", {})
            if 401 not in answered:
                documented = doc.alt_response(
                    401, schema=ApiErrorSchema, description="No valid API token was sent"
                )(documented)
            if 429 not in answered:
                documented = doc.alt_response(
                    429, schema=ApiErrorSchema, description=too_many, headers=retry
                )(documented)
            if role != "viewer" and 403 not in answered:
                documented = doc.alt_response(
                    403, schema=ApiErrorSchema, description=f"The caller's role is below {role}"
                )(documented)
            return Blueprint.doc(security=SECURITY, **{"x-required-role": role})(documented)

        return decorator

    ours, theirs = operations(requires), operations(by_hand)
    assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)
    assert {"200", "401", "403", "429"} <= set(ours["get"]["responses"])
    assert "403" not in ours["post"]["responses"]  # a viewer is never below its role
    assert ours["post"]["responses"]["401"]["description"] == "own 401"
    assert ours["get"]["x-required-role"] == "manager" and ours["get"]["security"] == SECURITY
