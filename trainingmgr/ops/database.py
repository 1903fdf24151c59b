"""When the database is unreachable: answer 503 with ``Retry-After``, and retry a read once.

- A request whose database connection fails (refused, timed out, dropped, a statement
  timeout) gets a 503 page (or JSON) with ``Retry-After``, never a 500: the browser, a load
  balancer or a monitor know to try again. The page touches no database, so it can always
  be shown.
- A read request (GET, HEAD) whose connection was dropped mid-way (the database restarted,
  a proxy or a failover closed it) is run once more on a fresh connection before giving up:
  nothing was written, so running it again is safe. Writes are never retried: the user sees
  the 503 page and nothing half-written (the transaction was lost with the connection).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _

from trainingmgr.extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a database that cannot be reached raises: connection refused or timed out, a
# connection dropped mid-way, a statement cancelled by its timeout, no pooled connection free.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def dropped_connection(exc: BaseException) -> bool:
    """True for an error that lost the connection (SQLAlchemy invalidated it)."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


class RetryingFlask(Flask):
    """Flask, running a read request once more when its database connection was dropped."""

    def preprocess_request(self) -> Any:
        return self._once_more(super().preprocess_request)

    def dispatch_request(self) -> Any:
        return self._once_more(super().dispatch_request)

    def _once_more(self, step: Any) -> Any:
        try:
            return step()
        except sa.exc.DBAPIError as exc:
            if request.method not in SAFE_METHODS or not dropped_connection(exc):
                raise
            log.warning(
                "database connection dropped during %s %s: retrying once",
                request.method,
                request.path,
            )
            db.session.rollback()
            return step()


def _locale() -> str:
    """The browser's language (the signed-in user's own would need the database)."""
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or languages[0]


def unavailable_response() -> tuple[Any, int, dict[str, str]]:
    """The 503 answer: no database, no signed-in user needed to build it."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    with force_locale(_locale()):
        title = _("Briefly unavailable")
        message = _(
            "The database is not answering, so this page cannot be shown right now. Nothing "
            "was saved. Please try again in a minute."
        )
        if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
            return jsonify(error=title, message=message), 503, headers
        # Straight from Jinja: Flask's context processors would load the signed-in user.
        template = current_app.jinja_env.get_template("errors/unavailable.html")
        page = template.render(title=title, message=message, lang=_locale())
    return page, 503, headers


def register(app: Flask) -> None:
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    def database_unavailable(exc: Exception) -> tuple[Any, int, dict[str, str]]:
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: nothing to roll back
            log.debug("rollback after a database error failed", exc_info=True)
        return unavailable_response()
