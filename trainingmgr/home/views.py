"""The home page sends each user to the page of their main role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts.models import Role
from trainingmgr.certificates.eligibility import fmt_hours
from trainingmgr.certificates.services import verification_url
from trainingmgr.core.permissions import allowed, coordinator_only, public, roles_required
from trainingmgr.core.scope import managed_programme_ids
from trainingmgr.evaluations import services as evaluations
from trainingmgr.home import services, todo

bp = Blueprint("home", __name__)


@bp.route("/")
@public
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    if allowed(current_user, frozenset({Role.COORDINATOR})):
        return redirect(url_for("home.dashboard"))
    if Role.TRAINER in current_user.roles:
        return redirect(url_for("home.trainer"))
    return redirect(url_for("home.participant"))


@bp.route("/dashboard")
@coordinator_only
def dashboard() -> str:
    scope = managed_programme_ids()
    return render_template(
        "home/dashboard.html",
        programmes=services.programme_summaries(scope),
        cohorts=services.current_cohorts(programme_ids=scope),
        sessions=services.upcoming_sessions(programme_ids=scope),
        todo=todo.coordinator_todo(scope),
        scoped=scope is not None,
    )


@bp.route("/trainer")
@roles_required(Role.TRAINER)
def trainer() -> str:
    """Past sessions missing attendance first, then today's, then the next ones."""
    person_id = current_user.person_id
    upcoming = services.trainer_sessions(person_id) if person_id else []
    past = services.trainer_sessions(person_id, upcoming=False, limit=10) if person_id else []
    today, later = services.split_today(upcoming)
    return render_template("home/trainer.html", today=today, upcoming=later, past=past)


@bp.route("/me")
@roles_required(Role.PARTICIPANT)
def participant() -> str:
    """The participant's own cohorts, schedules, attendance and certificates (no ids taken:
    only the signed-in user's person is ever shown)."""
    person_id = current_user.person_id
    overview = (
        services.participant_overview(person_id, timezone=current_user.timezone)
        if person_id
        else services.ParticipantOverview([], [])
    )
    return render_template(
        "home/participant.html",
        overview=overview,
        invitations=evaluations.participant_invitations(person_id) if person_id else {},
        download_url=_certificate_download_url,
        verification_url=verification_url,
        fmt_hours=fmt_hours,
    )


def _certificate_download_url(certificate_id: int) -> str:
    """The PDF of one of the participant's certificates (the certificates blueprint checks
    that it is theirs)."""
    return url_for("certificates.download", certificate_id=certificate_id)
