"""The floor of ``make bench-serve``: the least any Flask page must do to serve the roster.

A bare Flask app (no extensions: no sign-in, CSRF token, layout, translations or time zones)
with the same ``/healthz`` as trainingmgr's (``SELECT 1`` through a pooled SQLAlchemy
engine, a JSON answer) and the trainer's roster page reduced to its core: the roster's one
query, exactly as the app builds it, run through a plain engine, and its rows written with
the app's own row markup (``attendance/roster_html.py``), about the same bytes as the real
page. ``benchmarks.serve`` serves it with gunicorn beside the app and prints its roster /
healthz ratio: what the budget can be compared with on the machine of the day.

Run by gunicorn as ``benchmarks.serve_floor:app`` with ``DATABASE_URL``, ``FLOOR_SESSION``
and ``FLOOR_COHORT`` in the environment. Not part of the application.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, Response, jsonify

from trainingmgr.attendance import roster_html
from trainingmgr.attendance.roster import _roster_statement
from trainingmgr.config import engine_options, normalise_database_url
from trainingmgr.core.text import html_escape

CHOICES = (("present", "Present"), ("late", "Late"), ("excused", "Excused"), ("absent", "Absent"))
LAYOUT = "<!doctype html><html><head><title>Attendance</title></head><body>{}</body></html>"
# The real page's header, counts and buttons around the rows: about 10 kB.
HEADER = "<p>" + "·" * 10_000 + "</p>"


def _row_templates() -> dict[str | None, str]:
    """One row template per checked status, as ``roster_html`` builds them (in English)."""
    row = roster_html._fill(
        roster_html._ROW.replace("[note_for]", "Note for {name}"),
        disabled="",
        note="Note",
        note_max=500,
    )
    templates = {}
    for checked in (None, *[value for value, _text in CHOICES]):
        radios = "".join(
            roster_html._fill(
                roster_html._RADIO,
                checked=" checked" if value == checked else "",
                value=value,
                n=n,
                text=text,
            )
            for n, (value, text) in enumerate(CHOICES)
        )
        templates[checked] = row.replace("[radios]", radios)
    return templates


def _recorded(status: str | None, at: object, first: str | None, last: str | None) -> str:
    if status is None:
        return "Not recorded yet"
    by = html_escape(" ".join(p for p in (first, last) if p))
    return f'<span class="badge status-{status}">{status}</span> by {by}, {at:%b %d, %Y, %H:%M}'


def create_floor_app() -> Flask:
    app = Flask(__name__)
    url = normalise_database_url(os.environ["DATABASE_URL"])
    # The app's own connection settings (pre-ping, JIT off, timeouts).
    engine = sa.create_engine(url, **engine_options(url, connect_timeout=5, statement_timeout=30))
    params = {"session_id": int(os.environ["FLOOR_SESSION"])}
    params["cohort_id"] = int(os.environ["FLOOR_COHORT"])
    statement = _roster_statement()
    templates = _row_templates()

    @app.route("/healthz")
    def healthz() -> Response:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        response = jsonify(status="ok", database="ok")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/roster")
    def roster() -> Response:
        with engine.connect() as connection:
            rows = connection.execute(statement, params).all()
        out = [HEADER]
        for i, (eid, first, last, _rid, status, note, version, *rest) in enumerate(rows):
            _source, at, _display, _email, by_first, by_last = rest
            note = html_escape(note or "")
            out.append(
                templates[status].format(
                    eid=eid,
                    name=html_escape(f"{first} {last}"),
                    p=f"rows-{i}-",
                    ls=status or "",
                    ln=note,
                    lv=version or 0,
                    conflict_class="",
                    errors="",
                    recorded=_recorded(status, at, by_first, by_last),
                    conflict="",
                    open=" open" if note else "",
                    note=note,
                )
            )
        return Response(LAYOUT.format("".join(out)), mimetype="text/html")

    return app


app = create_floor_app() if "FLOOR_SESSION" in os.environ else None
