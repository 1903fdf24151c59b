"""``/healthz``: for load balancers, container orchestrators and uptime monitors."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from trainingmgr.core.permissions import public
from trainingmgr.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """200 ``{"status": "ok", "database": "ok"}`` when the database answers ``SELECT 1``;
    503 with ``"status": "error"`` otherwise. Sets no cookie and reveals no details."""
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception:  # any failure means "not healthy"; the log says which
        log.exception("health check: the database did not answer")
        response = jsonify(status="error", database="unavailable")
        status = 503
    else:
        response = jsonify(status="ok", database="ok")
        status = 200
    response.headers["Cache-Control"] = "no-store"
    return response, status
