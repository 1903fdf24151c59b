"""The home page sends each user to the page of their main role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts.models import Role
from trainingmgr.core.permissions import allowed, coordinator_only, public, roles_required
from trainingmgr.home import services

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
    return render_template(
        "home/dashboard.html",
        programmes=services.programme_summaries(),
        cohorts=services.current_cohorts(),
        sessions=services.upcoming_sessions(),
    )


@bp.route("/trainer")
@roles_required(Role.TRAINER)
def trainer() -> str:
    person_id = current_user.person_id
    upcoming = services.trainer_sessions(person_id) if person_id else []
    past = services.trainer_sessions(person_id, upcoming=False, limit=10) if person_id else []
    return render_template("home/trainer.html", upcoming=upcoming, past=past)


@bp.route("/me")
@roles_required(Role.PARTICIPANT)
def participant() -> str:
    person_id = current_user.person_id
    cohorts = services.participant_overview(person_id) if person_id else []
    return render_template("home/participant.html", cohorts=cohorts)
