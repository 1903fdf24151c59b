"""Friendly error pages: never a stack trace, and nothing half-written."""

from __future__ import annotations

import logging
from itertools import chain

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from trainingmgr.extensions import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.endswith(".json") or request.accept_mimetypes.best == "application/json"


def _page(code: int, title: str, message: str) -> tuple[object, int]:
    if _wants_json():
        return jsonify(error=title, message=message), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _holds_nul() -> bool:
    """Whether a query or form value of the request holds a NUL character (U+0000), which no
    text column of PostgreSQL can store (a pasted answer, a hostile request)."""
    pairs = chain(request.args.items(multi=True), request.form.items(multi=True))
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def _refuse_nul_characters() -> tuple[object, int] | None:
    """Before every request: a clear 400 (nothing saved) for text holding a NUL character."""
    if not _holds_nul():
        return None
    return _page(
        400,
        _("This text cannot be saved"),
        _(
            "The text sent contains an invisible NUL character, which cannot be saved. "
            "Go back, remove it (type the text again rather than pasting it) and try "
            "again. Nothing was saved."
        ),
    )


def register(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[object, int]:
        return _page(
            400,
            _("This form has expired"),
            _(
                "The form was missing its security token or it had expired. "
                "Go back, reload the page and try again. Nothing was saved."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[object, int] | HTTPException:
        code = exc.code or 500
        if code < 400:
            return exc
        messages = {
            400: (_("Bad request"), _("The request could not be understood. Nothing was saved.")),
            403: (
                _("Not allowed"),
                _(
                    "Your account does not have access to this page. "
                    "If you think it should, ask a coordinator or an administrator."
                ),
            ),
            404: (
                _("Page not found"),
                _(
                    "There is nothing at this address. It may have been moved or deleted, "
                    "or the link may be mistyped."
                ),
            ),
            405: (_("Not allowed"), _("This page cannot be used that way.")),
            413: (_("File too large"), _("The file is larger than the upload limit.")),
            429: (_("Too many requests"), _("Please wait a moment and try again.")),
        }
        title, message = messages.get(code, (exc.name, exc.description or ""))
        return _page(code, str(title), str(message))

    @app.errorhandler(Exception)
    def unexpected(_exc: Exception) -> tuple[object, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        db.session.rollback()
        return _page(
            500,
            _("Something went wrong"),
            _(
                "An unexpected error stopped this page. Nothing was saved. "
                "The error has been logged; please try again or tell an administrator."
            ),
        )
