"""Who may call the API: bearer tokens, a role declared on every endpoint, and default deny.

Every API view method declares the least role it needs with ``@requires("viewer" | "manager" |
"admin")`` (or ``@public``). A ``before_request`` hook on /api/ authenticates the caller and
enforces the declaration; an endpoint without one is treated as admin-only, so forgetting the
decorator fails closed. The declaration also documents the operation in OpenAPI (security
requirement plus 401/403 responses).

Each API token may make ADFLUX_API_RATE_LIMIT_PER_MINUTE calls a minute (counted in Redis, so
across every process); past it the answer is 429 with Retry-After.

The CLI's in-process client is trusted as a local admin (it already has the database): it wraps
the app in `cli.client.LocalAdminMiddleware`, which sets a WSGI environ key that no HTTP caller
can set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request
from flask_smorest import Blueprint
from flask_smorest.utils import deepupdate

from adflux.catalogue import gettext as _
from adflux.constants import LOCAL_ADMIN_ENVIRON_KEY, RATE_VERDICT_ENVIRON_KEY, ROLES
from adflux.error_responses import error_response
from adflux.schemas.common import ApiErrorSchema
from adflux.services import auth as auth_service
from adflux.services import rate_limits
from adflux.services.auth import Principal
from adflux.services.errors import Unauthenticated

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
# What an endpoint without a declaration requires: the strictest role (fail closed).
UNDECLARED_ROLE = "admin"
# Served to anyone: the API description and its viewer.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger_assets"})
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]

_ROLE_ATTR = "_adflux_required_role"
# A blueprint used only for its documentation decorators (it is never registered).
_doc = Blueprint("adflux-auth-doc", __name__)


def requires(role: str) -> Callable[[F], F]:
    """Declare the least role a view method needs, and document it in OpenAPI.

    The 401/429/403 answers and the security requirement are written into the method's
    documentation as `alt_response` and `Blueprint.doc` would write them, without their wrappers:
    each of those deep-copies everything documented so far (the schemas included) and adds a
    call to every request. Across the API that was ~0.1 s of CPU at every start (tested equal).
    """
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; one of {', '.join(ROLES)}")

    def decorator(func: F) -> F:
        apidoc = getattr(func, "_apidoc", {})
        responses = dict(apidoc.get("response", {}).get("responses", {}))
        for status in (401, 429, *((403,) if role != "viewer" else ())):
            if status not in responses:
                responses[status] = [_ERROR_DOCS[status] if status != 403 else _forbidden_doc(role)]
        manual = {"security": SECURITY, "x-required-role": role}
        func._apidoc = {  # type: ignore[attr-defined]
            **apidoc,
            "response": {**apidoc.get("response", {}), "responses": responses},
            "manual_doc": deepupdate(deepcopy(apidoc.get("manual_doc", {})), manual),
        }
        setattr(func, _ROLE_ATTR, role)
        return func

    return decorator


def _error_doc(status: int, description: str, **kwargs: Any) -> Any:
    """What `alt_response` records for an error answer (read off the decorator itself, once)."""
    probe: Any = _doc.alt_response(status, schema=ApiErrorSchema, description=description, **kwargs)(_noop)
    return probe._apidoc["response"]["responses"][status][0]


def _noop() -> None:
    """Only ever decorated, to read what a decorator records."""


_ERROR_DOCS = {
    401: _error_doc(401, "No valid API token was sent"),
    429: _error_doc(
        429,
        "Over ADFLUX_API_RATE_LIMIT_PER_MINUTE calls for this token (see Retry-After)",
        headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    ),
}
_FORBIDDEN_DOCS = {role: _error_doc(403, f"The caller's role is below {role}") for role in ROLES}


def _forbidden_doc(role: str) -> Any:
    return _FORBIDDEN_DOCS[role]


def public(func: F) -> F:
    """Declare a view method open to anonymous callers (documented with no security)."""
    documented: Any = Blueprint.doc(security=[])(func)
    setattr(documented, _ROLE_ATTR, PUBLIC)
    return documented


def required_role(endpoint: str | None, method: str, app: Flask | None = None) -> str:
    """The role (or PUBLIC) an endpoint's method needs; undeclared methods need admin."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    if endpoint is None or method == "OPTIONS":
        return "viewer"  # unknown path or method: authenticate first, then 404/405
    view = (app or current_app).view_functions.get(endpoint)
    if view is None:
        return "viewer"
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
    else:
        handler = view
    return getattr(handler, _ROLE_ATTR, UNDECLARED_ROLE)


def declared_roles(app: Flask, *, prefix: str = "/api/v1") -> Iterable[tuple[str, str, str, str | None]]:
    """(rule, method, endpoint, declared role or None) for every API rule: for tests and docs."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            role = required_role(rule.endpoint, method, app)
            declared = role if role == PUBLIC or _is_declared(app, rule.endpoint, method) else None
            yield rule.rule, method, rule.endpoint, declared


def _is_declared(app: Flask, endpoint: str, method: str) -> bool:
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, method.lower(), None) if view_class is not None else view
    return hasattr(handler, _ROLE_ATTR)


def current_principal() -> Principal:
    """The authenticated caller of this request."""
    principal = g.get("current_user")
    if principal is None:
        raise Unauthenticated(_("Authentication required"))
    return principal


def _unauthorized(message: str, *, invalid_token: bool = False) -> Response:
    response = error_response(401, message)
    challenge = 'Bearer realm="adflux"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def _identify() -> Principal | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(_("Send the API token as 'Authorization: Bearer <token>'"))
        return auth_service.authenticate_token(token=token.strip())
    local_name = request.environ.get(LOCAL_ADMIN_ENVIRON_KEY)
    if local_name:
        return auth_service.local_principal(str(local_name))
    return None


_ROLES_EXTENSION = "adflux_required_roles"


def _cached_required_role(endpoint: str | None, method: str) -> str:
    """`required_role`, looked up once per (endpoint, method) and app: views do not change."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    roles: dict[tuple[str | None, str], str] = app.extensions.setdefault(_ROLES_EXTENSION, {})
    key = (endpoint, method)
    role = roles.get(key)
    if role is None:
        role = roles[key] = required_role(endpoint, method, app)
    return role


def _authenticate_api_request() -> Response | None:
    if not request.path.startswith("/api/"):
        return None
    role = _cached_required_role(request.endpoint, request.method)
    if role == PUBLIC:
        return None
    try:
        principal = _identify()
    except Unauthenticated as exc:
        return _unauthorized(exc.message, invalid_token=True)
    if principal is None:
        return _unauthorized(_("Authentication required: send 'Authorization: Bearer <API token>'"))
    g.current_user = principal
    if principal.token_id is not None:
        verdict = _counted_verdict(principal.token_id) or rate_limits.check_token_rate(principal.token_id)
        if not verdict.allowed:
            logger.warning(
                "Token %s is over its rate limit (%s %s)", principal.token_id, request.method, request.path
            )
            response = error_response(
                429, f"Too many requests for this token; retry in {verdict.retry_after} s"
            )
            response.headers["Retry-After"] = str(verdict.retry_after)
            return response
    if not principal.has_role(role):
        logger.info("Refused %s %s: role %s below %s", request.method, request.path, principal.role, role)
        return error_response(403, f"This action needs the {role} role")
    return None


def _counted_verdict(token_id: int) -> rate_limits.Verdict | None:
    """The verdict a fast path already counted for this call of this token (`fast_path`), once."""
    counted = request.environ.pop(RATE_VERDICT_ENVIRON_KEY, None)
    if counted is not None and counted[0] == token_id:
        return cast(rate_limits.Verdict, counted[1])
    return None


def init_app(app: Flask) -> None:
    """Authenticate and authorise every /api/ request before its view runs."""
    app.before_request(_authenticate_api_request)
