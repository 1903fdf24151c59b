"""E-mail pages: the outbox (administrators), the message log and the message previews
(coordinators, for their programmes)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts.models import Role
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.scope import managed_programme_ids
from trainingmgr.core.views import run_action
from trainingmgr.extensions import db
from trainingmgr.mail import outbox, previews
from trainingmgr.mail.models import OutboxMessage, OutboxStatus

bp = Blueprint("mail", __name__)

admin_only = roles_required(Role.ADMIN)

# The HTML part of a message is shown in an <iframe sandbox> from a response that is itself
# sandboxed: no scripts, no forms, no plugins, no same-origin access, only inline styles and
# images (a message is foreign content: its HTML is never part of an app page).
SANDBOX_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "font-src https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _sandboxed(html: str) -> Response:
    response = make_response(html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _zone() -> str:
    return getattr(current_user, "timezone", None) or current_app.config.get(
        "DEFAULT_TIMEZONE", "UTC"
    )


def _page_context() -> dict[str, object]:
    return {
        "statuses": list(outbox.STATUS_LABELS.items()),
        "zone": _zone(),
    }


def _messages_page(template: str, programme_ids: set[int] | None) -> str:
    """A page of the messages the query string filters (``programme_ids``: None for all)."""
    filters = outbox.OutboxFilter.from_args(request.args)
    page, per_page = page_args(request.args)
    return render_template(
        template,
        filters=filters,
        result=outbox.messages(filters, page, per_page, programme_ids),
        kinds=outbox.kind_choices(),
        **_page_context(),
    )


# --------------------------------------------------------------------------- outbox (admins)


@bp.route("/admin/outbox")
@admin_only
def outbox_index() -> str:
    return _messages_page("mail_admin/outbox.html", None)


@bp.route("/admin/outbox/<int:message_id>")
@admin_only
def outbox_detail(message_id: int) -> str:
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "mail_admin/message.html",
        message=message,
        parts=outbox.parts(message),
        can_retry=message.status != OutboxStatus.SENT,
        **_page_context(),
    )


@bp.route("/admin/outbox/<int:message_id>/body.html")
@admin_only
def outbox_html(message_id: int) -> Response:
    message = db.get_or_404(OutboxMessage, message_id)
    html = outbox.parts(message).html
    if html is None:
        abort(404)
    return _sandboxed(html)


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
@admin_only
def outbox_retry(message_id: int) -> Response:
    message = db.get_or_404(OutboxMessage, message_id)
    run_action(
        lambda: outbox.retry(message, actor=current_user),
        _(
            "The message to %(to)s will be sent again at the next delivery round.",
            to=message.recipient,
        ),
    )
    return redirect(url_for("mail.outbox_detail", message_id=message_id))


# --------------------------------------------------------------------------- log (coordinators)


@bp.route("/messages")
@coordinator_only
def log() -> str:
    return _messages_page("mail_admin/log.html", managed_programme_ids())


# --------------------------------------------------------------------------- previews


def _rendered(key: str, locale: str) -> previews.PreviewResult:
    """The preview ``key`` rendered in ``locale`` for the signed-in user; 404 if unknown."""
    preview = previews.PREVIEWS.get(key)
    if preview is None or locale not in previews.languages():
        abort(404)
    return previews.render_preview(preview, locale, actor=current_user)


def _previews_page(template: str, **context: Any) -> str:
    """A page of the previews, with the list of previews and languages they offer."""
    return render_template(
        template,
        previews=list(previews.PREVIEWS.values()),
        languages=previews.languages(),
        **context,
    )


@bp.route("/messages/previews")
@coordinator_only
def previews_index() -> str:
    return _previews_page("mail_admin/previews.html")


@bp.route("/messages/previews/<key>/<locale>")
@coordinator_only
def preview(key: str, locale: str) -> str:
    return _previews_page("mail_admin/preview.html", result=_rendered(key, locale))


@bp.route("/messages/previews/<key>/<locale>/body.html")
@coordinator_only
def preview_html(key: str, locale: str) -> Response:
    result = _rendered(key, locale)
    if result.rendered is None:
        abort(404)
    return _sandboxed(result.rendered.html)
