"""Admin page for platform accounts: list, create, edit and (de)activate, credentials never shown."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import PLATFORM_LABELS, PLATFORMS
from adflux.schemas.accounts import PlatformAccountSchema, PlatformAccountUpdateSchema
from adflux.services import account_identifiers, connection_check
from adflux.services import platform_accounts as accounts_service
from adflux.services.errors import DomainError, NotFound
from adflux.web.auth import login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

FIELDS = ("platform", "name", "external_account_id", "base_url", "api_version", "priority")


@bp.get("/admin/accounts")
@login_required("admin")
def admin_accounts() -> str:
    """Every platform account with its credentials' state (masked), and the form to add one."""
    return _page()


@bp.post("/admin/accounts")
@login_required("admin")
def admin_account_create() -> BaseResponse | tuple[str, int]:
    """Add an account from the form, checked by the API's own schema."""
    data = _form_data(with_platform=True)
    try:
        loaded = PlatformAccountSchema().load(data)
        accounts_service.create_account(data=loaded)
    except ValidationError as exc:
        return _page(errors=_field_errors(exc.messages)), 400
    except DomainError as exc:
        return _page(errors={"form": exc.message, **_field_errors(dict(exc.errors))}), 400
    flash(_("Account added."), "success")
    return redirect(url_for("web.admin_accounts"))


@bp.post("/admin/accounts/<int:account_id>")
@login_required("admin")
def admin_account_update(account_id: int) -> BaseResponse | tuple[str, int]:
    """Rename, reprioritise, or deactivate / reactivate an account."""
    changes: dict[str, Any] = {}
    if "active" in request.form:
        changes["active"] = request.form["active"] == "1"
    else:
        changes = {k: v for k, v in _form_data(with_platform=False).items() if k in ("name", "priority")}
        identifiers = {
            key[len("id_") :]: value.strip() for key, value in request.form.items() if key.startswith("id_")
        }
        if identifiers:
            changes["identifiers"] = identifiers
    if not changes:
        abort(400)
    try:
        loaded = PlatformAccountUpdateSchema(partial=True).load(changes)
        account = accounts_service.update_account(account_id=account_id, changes=loaded)
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _page(errors=_field_errors(exc.messages)), 400
    except DomainError as exc:
        return _page(errors={"form": exc.message, **_field_errors(dict(exc.errors))}), 400
    flash(_("Saved: %(name)s.", name=account.name), "success")
    return redirect(url_for("web.admin_accounts"))


@bp.post("/admin/accounts/<int:account_id>/test")
@login_required("admin")
def admin_account_test(account_id: int) -> str:
    """Test the connection and show what the platform said beside the account."""
    try:
        result = connection_check.check_connection(account_id=account_id)
    except NotFound:
        abort(404)
    return _page(tested=result.as_dict())


def _page(errors: dict[str, str] | None = None, tested: dict[str, Any] | None = None) -> str:
    page = accounts_service.list_accounts(page=page_number(), page_size=PAGE_SIZE)
    return render_template(
        "admin/accounts.html",
        page=page,
        accounts=[accounts_service.shown(a) for a in page.items],
        platforms=PLATFORMS,
        platform_labels=PLATFORM_LABELS,
        identifier_specs=account_identifiers.IDENTIFIERS,
        account_id_specs=account_identifiers.ACCOUNT_IDS,
        errors=errors or {},
        form=request.form,
        tested=tested,
    )


def _form_data(*, with_platform: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = (request.form.get(name) or "").strip()
        if value and (with_platform or name != "platform"):
            data[name] = value
    data["is_sandbox"] = request.form.get("is_sandbox") == "1"
    credentials = _credentials(request.form.get("credentials") or "")
    if credentials:
        data["credentials"] = credentials
    identifiers = _credentials(request.form.get("identifiers") or "")
    if identifiers:
        data["identifiers"] = identifiers
    return data if with_platform else {k: v for k, v in data.items() if k != "is_sandbox"}


def _credentials(text: str) -> dict[str, str]:  # also the identifiers' lines
    """`name = value` lines (blank lines ignored); a line without '=' becomes a field error."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            found[key.strip() if sep else line.strip()] = value.strip() if sep else ""
    return found


def _field_errors(messages: Any) -> dict[str, str]:
    if not isinstance(messages, dict):
        return {"form": str(messages)}
    if isinstance(messages.get("identifiers"), dict):  # one line per identifier, named by its key
        nested = messages.pop("identifiers")
        messages = {**messages, **{f"identifiers.{k}": v for k, v in nested.items()}}
    return {
        str(field): "; ".join(map(str, m)) if isinstance(m, list) else _("invalid")
        for field, m in messages.items()
    }
