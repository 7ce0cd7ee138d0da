"""Automation · approvals: campaigns a playbook made that wait for a manager to approve or reject."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from adflux.constants import PLATFORM_LABELS
from adflux.services import approvals as approvals_service
from adflux.services import campaigns as campaigns_service
from adflux.services.errors import DomainError, InvalidTransition, ServiceUnavailable, ValidationFailed
from adflux.services.playbooks import registry as playbooks_service
from adflux.web.auth import current_session_user, login_required
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

logger = logging.getLogger(__name__)

REASON_MIN, REASON_MAX = 3, 500


def pending_count() -> int:
    """How many campaigns await approval (shown on the automation tabs)."""
    return approvals_service.list_pending(page=1, page_size=1).total


def _render(
    errors: dict[int, str] | None = None, reasons: dict[int, str] | None = None, status: int = 200
) -> tuple[str, int]:
    page = approvals_service.list_pending(page=page_number(), page_size=PAGE_SIZE)
    principal = current_session_user()
    html = render_template(
        "automation/approvals.html",
        page=page,
        playbook_names={p.id: p.name for p in playbooks_service.list_playbooks()},
        platform_labels=PLATFORM_LABELS,
        can_act=principal is not None and principal.has_role("manager"),
        errors=errors or {},
        reasons=reasons or {},
        reason_min=REASON_MIN,
        reason_max=REASON_MAX,
        pending_approvals=page.total,
    )
    return html, status


@bp.get("/approvals")
@login_required("viewer")
def approval_list() -> tuple[str, int]:
    """Campaigns awaiting approval, oldest first; managers approve or reject them here."""
    return _render()


@bp.post("/approvals/<int:campaign_id>/approve")
@login_required("manager")
def approval_approve(campaign_id: int) -> BaseResponse:
    """Approve a campaign: it is published at once (a background task)."""
    name = campaigns_service.get_campaign(campaign_id=campaign_id).name  # NotFound → the 404 page
    try:
        approvals_service.approve(campaign_id=campaign_id)
    except InvalidTransition:
        flash(_("“%(name)s” is no longer awaiting approval.", name=name), "error")
    except ServiceUnavailable as exc:
        flash(
            _(
                "“%(name)s” is approved, but the platforms or the task queue did not answer, so publishing "
                "did not start; publish it from the campaign page in a few minutes.",
                name=name,
            ),
            "error",
        )
        logger.warning("dashboard: publishing approved campaign %s failed: %s", campaign_id, exc.message)
    except DomainError as exc:
        flash(_("Could not do that: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("“%(name)s” approved: publishing started.", name=name), "success")
    return redirect(url_for("web.approval_list"))


@bp.post("/approvals/<int:campaign_id>/reject")
@login_required("manager")
def approval_reject(campaign_id: int) -> BaseResponse | tuple[str, int]:
    """Reject a campaign with a reason (it is archived, never published); no reason, no change."""
    name = campaigns_service.get_campaign(campaign_id=campaign_id).name
    reason = (request.form.get("reason") or "").strip()
    try:
        approvals_service.reject(campaign_id=campaign_id, reason=reason)
    except ValidationFailed:
        message = _(
            "Write why it is rejected (%(min)s to %(max)s characters).", min=REASON_MIN, max=REASON_MAX
        )
        return _render({campaign_id: message}, {campaign_id: reason[:REASON_MAX]}, 400)
    except InvalidTransition:
        flash(_("“%(name)s” is no longer awaiting approval.", name=name), "error")
    except DomainError as exc:
        flash(_("Could not do that: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("“%(name)s” rejected: it will not be published.", name=name), "success")
    return redirect(url_for("web.approval_list"))
