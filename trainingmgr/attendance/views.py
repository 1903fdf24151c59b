"""Attendance pages: the session roster, the QR check-in screen and the participant's
check-in, and the cohort matrix with its exports. Rules live in ``services``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from trainingmgr.accounts.models import Role
from trainingmgr.attendance import access, exports, matrix_html, self_checkin, summary
from trainingmgr.attendance import checkin as tokens
from trainingmgr.attendance import matrix as matrices
from trainingmgr.attendance import roster as rosters
from trainingmgr.attendance.forms import (
    MatrixFilterForm,
    RosterForm,
    RowInputs,
    roster_inputs,
    status_choices,
)
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.roster_html import roster_rows
from trainingmgr.cohorts.models import Session
from trainingmgr.cohorts.services import enrolled_count
from trainingmgr.core.errors import DomainError
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import public, roles_required, signed_in
from trainingmgr.core.types import utcnow
from trainingmgr.core.views import load_or_404, outcome, run_action
from trainingmgr.extensions import db

bp = Blueprint("attendance", __name__)

RECORDERS = (Role.TRAINER, Role.COORDINATOR)
# One letter per status in the matrix (with a colour and the full label as its title).
LETTERS = {
    AttendanceStatus.PRESENT: "P",
    AttendanceStatus.LATE: "L",
    AttendanceStatus.EXCUSED: "E",
    AttendanceStatus.ABSENT: "A",
}


# --------------------------------------------------------------------------- roster


def _render_roster(
    roster: rosters.Roster,
    inputs: dict[int, RowInputs],
    conflicts: list[rosters.Conflict] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    choices = status_choices()
    return (
        render_template(
            "attendance/roster.html",
            roster=roster,
            session=roster.session,
            cohort=roster.session.cohort,
            rows_html=roster_rows(roster, inputs, choices, conflicts or ()),
            conflicts=conflicts or [],
            statuses=list(AttendanceStatus),
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def roster(session_id: int) -> Any:
    if request.method == "GET":
        data = load_or_404(rosters.load_roster, session_id, actor=current_user)
        mark = request.args.get("mark") == "present" and data.refusal is None
        if mark:
            flash(_("Everyone not yet recorded is marked present: fix the exceptions, then save."))
        return _render_roster(data, roster_inputs(data, mark_present=mark))

    get_locale()  # before the commit expires the user, whose language the messages need
    form = RosterForm()
    if not form.validate():
        db.session.rollback()
        data = load_or_404(rosters.load_roster, session_id, actor=current_user)
        flash(
            _("Some rows could not be read: see the messages below. Nothing was saved."), "danger"
        )
        return _render_roster(data, form.inputs(data), status=400)
    done = run_action(
        lambda: rosters.save_roster(
            session_id, form.changes(), ip=request.remote_addr, actor=current_user
        ),
        http_errors=True,
        show=False,
    )
    if not done:
        return _refused(session_id, form, done.error)
    return _saved(session_id, done.value)


def _refused(session_id: int, form: RosterForm, exc: DomainError) -> tuple[str, int]:
    """The roster again as posted, with why the save was refused (on its row if it is one)."""
    data = load_or_404(rosters.load_roster, session_id, actor=current_user)
    rows = form.include(data)
    row = None
    if exc.field and exc.field.startswith("enrolment-"):
        row = rows.get(int(exc.field.removeprefix("enrolment-")))
    if row is not None:
        row.errors.append(exc.message)
        flash(_("A row needs your attention: see below. Nothing was saved."), "danger")
    else:
        flash(exc.message + " " + _("Nothing was saved."), "danger")
    return _render_roster(data, form.inputs(data), status=400)


def _saved(session_id: int, result: rosters.SaveResult) -> Any:
    """After a save: the roster with the conflicts, or back to it with what was saved."""
    if result.conflicts:
        flash(rosters.conflicts_message(result.saved, len(result.conflicts)), "warning")
        data = rosters.load_roster(session_id, actor=current_user)
        return _render_roster(data, roster_inputs(data), conflicts=result.conflicts)
    if result.saved:
        flash(
            _(
                "Attendance saved: %(recorded)s recorded, %(corrected)s corrected.",
                recorded=result.recorded,
                corrected=result.corrected,
            ),
            "success",
        )
    else:
        flash(_("Nothing to save: no status or note was changed."), "info")
    return redirect(url_for("attendance.roster", session_id=session_id))


# --------------------------------------------------------------------------- QR check-in


def _code_payload(session: Session) -> dict[str, Any]:
    """The check-in screen's figures and current code; ``closed`` (why) and no code once
    nobody can check in any more."""
    now = utcnow()
    payload: dict[str, Any] = {
        "checked_in": self_checkin.checked_in_count(session.id),
        "enrolled": enrolled_count(session.cohort_id),
    }
    closed = self_checkin.closed_reason(session, now)
    if closed is not None:
        return {**payload, "closed": closed}
    url = tokens.checkin_url(session.id, now)
    return {
        **payload,
        "url": url,
        "svg": tokens.qr_svg(url, title=_("Check-in code")),
        "expires_in": tokens.seconds_left(now),
    }


@bp.route("/sessions/<int:session_id>/checkin-screen")
@roles_required(*RECORDERS)
def checkin_screen(session_id: int) -> str:
    session = load_or_404(access.session_for_recording, session_id, actor=current_user)
    return render_template(
        "attendance/checkin_screen.html",
        session=session,
        cohort=session.cohort,
        code=_code_payload(session),
        refresh_seconds=5,
    )


@bp.route("/sessions/<int:session_id>/checkin-code.json")
@roles_required(*RECORDERS)
def checkin_code(session_id: int) -> Response:
    session = load_or_404(access.session_for_recording, session_id, actor=current_user)
    response = jsonify(_code_payload(session))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/checkin/<int:session_id>/<token>", methods=["GET", "POST"])
@public
def checkin(session_id: int, token: str) -> Any:
    """A participant's check-in: GET shows a confirmation, only the POST records. Someone
    not signed in yet has the code checked now and signs in with a scan ticket in the
    address they come back to, so a sign-in of a few minutes does not expire the code."""
    if not current_user.is_authenticated:
        return _sign_in_to_check_in(session_id, token)
    ticket = request.form.get("ticket") if request.method == "POST" else None
    scanned = request.args.get("scan")
    if request.method == "POST":
        done = run_action(
            lambda: self_checkin.check_in(
                session_id,
                token,
                ticket=ticket,
                scanned=scanned,
                ip=request.remote_addr,
                actor=current_user,
            ),
            http_errors=True,
            show=False,
        )
        if not done:
            return _checkin_refused(done.error)
        return redirect(
            url_for("attendance.checked_in", session_id=session_id, already=int(done.value.already))
        )
    found = outcome(
        lambda: self_checkin.checkin_target(session_id, token, scanned=scanned, actor=current_user),
        http_errors=True,
    )
    if not found:
        return _checkin_refused(found.error)
    target = found.value
    if target.already_in:
        return render_template(
            "attendance/checkin_done.html",
            session=target.session,
            cohort=target.session.cohort,
            record=target.record,
            already=True,
        )
    return render_template(
        "attendance/checkin_confirm.html",
        session=target.session,
        cohort=target.session.cohort,
        ticket=tokens.confirmation_ticket(session_id, current_user.id),
        expected=self_checkin.checkin_status(
            target.session, tokens.scanned_at(scanned, session_id) or utcnow()
        ),
    )


def _checkin_refused(error: DomainError) -> tuple[str, int]:
    """Why a check-in cannot be made (an expired code, not enrolled, too early...)."""
    return render_template("attendance/checkin_refused.html", message=error.message), 400


def _sign_in_to_check_in(session_id: int, token: str) -> Any:
    """The code checked now, then the sign-in page, back here with a scan ticket."""
    scan = outcome(lambda: self_checkin.check_scan(session_id, token), http_errors=True)
    if not scan:
        return _checkin_refused(scan.error)
    back = url_for("attendance.checkin", session_id=session_id, token=token, scan=scan.value)
    flash(_("Sign in to check in: your code stays valid for 15 minutes."), "info")
    return redirect(url_for("accounts.login", next=back))


@bp.route("/checkin/<int:session_id>/done")
@signed_in
def checked_in(session_id: int) -> str:
    """After a check-in: what was recorded (read from the database, for this user only)."""
    data = load_or_404(self_checkin.my_checkin, session_id, actor=current_user)
    return render_template(
        "attendance/checkin_done.html",
        session=data.session,
        cohort=data.session.cohort,
        record=data.record,
        already=request.args.get("already") == "1",
    )


# --------------------------------------------------------------------------- matrix


def _matrix_from_request(cohort_id: int) -> tuple[matrices.Matrix, MatrixFilterForm]:
    cohort = load_or_404(matrices.cohort_for_matrix, cohort_id, actor=current_user)
    form = MatrixFilterForm(formdata=request.args)
    form.set_modules(matrices.cohort_modules(cohort))
    flt = None
    if form.validate():
        flt = summary.SessionFilter.from_local(
            cohort.timezone, form.module_id, form.start.data, form.end.data
        )
    matrix = matrices.attendance_matrix(cohort, flt)
    return matrix, form


@bp.route("/cohorts/<int:cohort_id>/attendance")
@roles_required(*RECORDERS)
def matrix(cohort_id: int) -> str:
    data, form = _matrix_from_request(cohort_id)
    query = {k: v for k, v in request.args.items() if k in ("module", "start", "end") and v}
    letters = {s: (LETTERS[s], str(s.label)) for s in AttendanceStatus}
    page = data.page(page_args(request.args)[0])
    return render_template(
        "attendance/matrix.html",
        matrix=data,
        page=page,
        cohort=data.cohort,
        form=form,
        query=query if not form.errors else {},
        letters=letters,
        head_cells=matrix_html.matrix_head(data),
        body_rows=matrix_html.matrix_rows(data, letters, page.items),
        turnout_cells=matrix_html.matrix_turnout(data),
    )


def _filename(cohort_name: str, ext: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", cohort_name).strip("-").lower() or "cohort"
    return f"attendance-{slug}.{ext}"


def _matrix_download(
    cohort_id: int, ext: str, export: Callable[[Any], Any], mimetype: str
) -> Response:
    """The matrix of the request's filters as a file to download."""
    data, _form = _matrix_from_request(cohort_id)
    return Response(
        export(data),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(data.cohort.name, ext)}"'
        },
    )


@bp.route("/cohorts/<int:cohort_id>/attendance.csv")
@roles_required(*RECORDERS)
def matrix_csv(cohort_id: int) -> Response:
    return _matrix_download(cohort_id, "csv", exports.export_csv, "text/csv")


@bp.route("/cohorts/<int:cohort_id>/attendance.xlsx")
@roles_required(*RECORDERS)
def matrix_xlsx(cohort_id: int) -> Response:
    return _matrix_download(
        cohort_id,
        "xlsx",
        exports.export_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
