"""Every API route declares its role; anonymous and under-privileged callers are refused everywhere."""

from __future__ import annotations

import re

import pytest

from adflux.api.auth import PUBLIC, UNDECLARED_ROLE, declared_roles, required_role
from adflux.app import create_app
from adflux.services.auth import role_at_least
from conftest import issue_test_token

# Operations that must stay admin-only whatever their HTTP method (the issue's admin list).
ADMIN_PATHS = re.compile(r"^/api/v1/(users|platform-accounts|audit-events)|/(activate|restore)\b")


def _sample_url(rule: str) -> str:
    """A concrete URL for a rule: ids that do not exist, so nothing is changed by accident."""
    url = re.sub(r"<int:[^>]+>", "999999", rule)
    url = re.sub(r"<(?:string:|path:|uuid:)?[^>]+>", "does-not-exist", url)
    return url


def _operations(app):
    """(rule, method, endpoint, role); undeclared methods count as what is enforced: admin."""
    return [
        (rule, method, endpoint, role or UNDECLARED_ROLE)
        for rule, method, endpoint, role in declared_roles(app)
    ]


def test_every_api_operation_declares_a_role(app):
    undeclared = [(rule, method) for rule, method, _, role in declared_roles(app) if role is None]
    assert undeclared == [], "add @requires(role) (or @public) to these API methods"


def test_only_the_api_description_is_public(app):
    public = {rule for rule, _, _, role in _operations(app) if role == PUBLIC}
    # The portal's postbacks carry no token: an HMAC signature of the body authenticates them
    # (tests/tracking: unsigned, wrongly signed, stale and replayed bodies are 401).
    signed = {"/api/v1/tracking/postbacks"}
    assert public <= {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/<path:filename>", *signed}


def test_writes_need_at_least_manager_and_admin_areas_need_admin(app):
    for rule, method, _, role in _operations(app):
        if role == PUBLIC:
            continue
        if ADMIN_PATHS.search(rule):
            assert role == "admin", (rule, method)
        elif method != "GET" and not rule.startswith(("/api/v1/tokens", "/api/v1/me")):
            assert role_at_least(role, "manager"), (rule, method)


def test_anonymous_callers_get_401_on_every_operation(app, anon_client):
    checked = 0
    for rule, method, _, role in _operations(app):
        if role == PUBLIC:
            continue
        response = anon_client.open(_sample_url(rule), method=method, json={})
        assert response.status_code == 401, (method, rule, response.status_code)
        assert response.get_json()["code"] == "unauthorized"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_under_privileged_callers_get_403(app, client_as, role):
    caller = client_as(role)
    refused = 0
    for rule, method, _, required in _operations(app):
        if required == PUBLIC or role_at_least(role, required):
            continue
        response = caller.open(_sample_url(rule), method=method, json={})
        assert response.status_code == 403, (role, method, rule, response.status_code)
        assert response.get_json()["code"] == "forbidden"
        refused += 1
    assert refused > 0


def test_sufficient_roles_get_past_the_gate(app, client_as):
    callers = {role: client_as(role) for role in ("viewer", "manager", "admin")}
    for rule, method, _, required in _operations(app):
        if required == PUBLIC or method != "GET":
            continue
        response = callers[required].open(_sample_url(rule), method=method)
        assert response.status_code not in (401, 403), (required, method, rule)


def test_openapi_marks_every_protected_operation_with_bearer_security(app, anon_client):
    spec = anon_client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    roles = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), method.lower()): role
        for rule, method, _, role in _operations(app)
    }
    operations = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            role = roles[(path, method)]
            if role == PUBLIC:  # the signed postback: documented, authenticated by its HMAC signature
                assert (path, method) == ("/api/v1/tracking/postbacks", "post")
                assert operation.get("security") == [] and "401" in operation["responses"]
                continue
            operations += 1
            assert operation.get("security") == [{"bearerAuth": []}], (method, path)
            assert operation["x-required-role"] == role
            assert "401" in operation["responses"], (method, path)
            if role != "viewer":
                assert "403" in operation["responses"], (method, path)
    assert operations == len([op for op in _operations(app) if op[3] != PUBLIC])


def test_an_endpoint_without_a_declaration_is_admin_only(settings, client_as):
    app = create_app(settings)

    def forgotten() -> dict[str, bool]:  # no @requires: forgotten on purpose
        return {"ok": True}

    # A plain Flask rule (not a smorest blueprint: the smorest Api and its spec are shared).
    app.add_url_rule("/api/v1/undeclared-for-test", view_func=forgotten)
    assert required_role("forgotten", "GET", app) == "admin"
    assert app.test_client().get("/api/v1/undeclared-for-test").status_code == 401
    _, viewer_token = issue_test_token(app, "viewer")
    viewer = app.test_client().get(
        "/api/v1/undeclared-for-test", headers={"Authorization": f"Bearer {viewer_token}"}
    )
    assert viewer.status_code == 403


def test_the_local_admin_marker_cannot_be_sent_as_a_header(anon_client):
    for name in ("adflux.local_admin", "Adflux-Local-Admin", "X-Adflux-Local-Admin"):
        assert anon_client.get("/api/v1/jobs", headers={name: "root"}).status_code == 401


def test_unknown_api_paths_need_authentication_first(anon_client, client):
    assert anon_client.get("/api/v1/nothing-here").status_code == 401
    assert client.get("/api/v1/nothing-here").status_code == 404
    assert anon_client.delete("/api/v1/jobs").status_code == 401
    assert client.delete("/api/v1/jobs").status_code == 405


def test_the_api_description_and_docs_are_public(anon_client):
    assert anon_client.get("/api/v1/openapi.json").status_code == 200
    assert anon_client.get("/api/v1/docs").status_code == 200


# Pages and endpoints outside /api/ that anyone may reach: static files, probes, the Prometheus
# scrape (its own token when ADFLUX_METRICS_TOKEN is set), signing in and out, the language switch.
OPEN_OUTSIDE_API = frozenset(
    {"static", "web.static", "web.favicon", "healthz", "readyz", "metrics"}
    | {"auth.login", "auth.logout", "web.set_language"}
    | {"tracking_redirect"}  # /r/<code>: the ads' tracking link, for anyone who clicks an ad
)


def _dashboard_routes(app):
    """(rule, method, endpoint, role) of every route outside /api/ that is not open to anyone."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint in OPEN_OUTSIDE_API:
            continue
        role = getattr(app.view_functions[rule.endpoint], "_adflux_login_role", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method, rule.endpoint, role))
    return routes


def test_every_dashboard_page_declares_a_role(app):
    routes = _dashboard_routes(app)
    assert {endpoint for _, _, endpoint, _ in routes} >= {
        "web.index",
        "web.audit_trail",
        "web.campaign_action",
    }
    undeclared = [(rule, method) for rule, method, _, role in routes if role is None]
    assert undeclared == [], "decorate these views with @login_required(role)"
    assert {endpoint: role for _, _, endpoint, role in routes}["web.audit_trail"] == "admin"


def test_anonymous_people_get_no_dashboard_page(app, anon_client):
    from web.conftest import csrf_token

    token = csrf_token(anon_client)  # a valid form token, so only the sign-in check can refuse
    for rule, method, _, _ in _dashboard_routes(app):
        url = _sample_url(rule)
        response = anon_client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/login?next="), (method, url)


def test_people_below_a_pages_role_are_refused(app):
    from web.conftest import create_user, csrf_token, sign_in

    for role in ("viewer", "manager"):
        create_user(app, f"{role}@pages.test", role)
        person = app.test_client()
        sign_in(person, f"{role}@pages.test")
        token = csrf_token(person, "/")
        for rule, method, _, needed in _dashboard_routes(app):
            if role_at_least(role, needed):
                continue
            url = _sample_url(rule)
            response = person.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (role, method, url, response.status_code)
