"""Enrolment pages: a cohort's roster, enrolling people, status changes and the waitlist.

The roster partial (``templates/enrolments/_roster.html``) is also shown on the cohort's
page; its forms send ``next`` so that the coordinator comes back to the page they were on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.cohorts.services import cohort_or_404
from trainingmgr.core.errors import DomainError
from trainingmgr.core.labels import label_for
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.scope import managed_programme_ids, people_outside_scope
from trainingmgr.core.views import Success, attempt, load_or_404, run_action
from trainingmgr.enrolments import services
from trainingmgr.enrolments import waitlist as enrolment_waitlist
from trainingmgr.enrolments.forms import (
    BackForm,
    EnrolByEmailForm,
    EnrolForm,
    MoveForm,
    PromoteForm,
    StatusForm,
    first_error,
)

bp = Blueprint("enrolments", __name__)

MAX_QUERY = 200


def _enrolment_or_404(cohort_id: int, enrolment_id: int) -> Enrolment:
    return load_or_404(services.get_enrolment, cohort_id, enrolment_id)


def _back(cohort_id: int, form: BackForm) -> Response:
    """Back to ``next`` when it is a path on this site, else to the enrolments page."""
    target = form.next.data or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        target = url_for("enrolments.manage", cohort_id=cohort_id)
    return redirect(target)


def _perform(cohort_id: int, form: BackForm, work: Callable[[], str]) -> Response:
    """Validate ``form``, then ``attempt`` ``work`` (a service call returning the success
    message): refusals roll back and come back as a flash. Back to ``next`` either way."""
    if not form.validate_on_submit():
        flash(first_error(form), "danger")
    elif done := attempt(work):
        flash(done.value, "success")
    return _back(cohort_id, form)


def _perform_on(
    cohort_id: int, enrolment_id: int, form: BackForm, work: Callable[[Enrolment], str]
) -> Response:
    """``_perform`` with ``work`` on the enrolment the URL names (404 for another cohort's)."""
    enrolment = _enrolment_or_404(cohort_id, enrolment_id)
    return _perform(cohort_id, form, lambda: work(enrolment))


def roster_page(cohort_id: int) -> services.Roster:
    """The page of the cohort's roster the query string asks for (``roster_page``, and
    ``who``: a name or e-mail to find on the roster)."""
    page, per_page = page_args(
        {"page": request.args.get("roster_page")}, default_per_page=services.ROSTER_PER_PAGE
    )
    who = request.args.get("who", "").strip()[:MAX_QUERY]
    return services.roster(cohort_id, page=page, per_page=per_page, who=who)


def _render_manage(
    cohort: Cohort,
    enrol_form: EnrolForm | None = None,
    email_form: EnrolByEmailForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    query = request.values.get("q", "").strip()[:MAX_QUERY]
    enrol_form = enrol_form or EnrolForm(formdata=None, q=query)
    email_form = email_form or EnrolByEmailForm(formdata=None)
    events = services.history(cohort.id)
    page = render_template(
        "enrolments/manage.html",
        cohort=cohort,
        roster=roster_page(cohort.id),
        events=events,
        event_people=services.enrolment_people(ev.object_id for ev in events),
        query=query,
        results=(
            services.search_people(cohort.id, query, programme_ids=managed_programme_ids())
            if query
            else None
        ),
        enrol_form=enrol_form,
        email_form=email_form,
        picked=set(enrol_form.person_ids.data or []),
    )
    return page, status


@bp.get("/cohorts/<int:cohort_id>/enrolments")
@coordinator_only
def manage(cohort_id: int) -> tuple[str, int]:
    return _render_manage(cohort_or_404(cohort_id))


def _enrolled_message(result: services.EnrolResult) -> str:
    parts = []
    if result.enrolled:
        parts.append(
            ngettext("%(num)d person enrolled.", "%(num)d people enrolled.", len(result.enrolled))
        )
    if result.waitlisted:
        parts.append(
            ngettext(
                "%(num)d put on the waitlist (place %(first)s).",
                "%(num)d put on the waitlist (places %(first)s to %(last)s).",
                len(result.waitlisted),
                first=result.waitlisted[0].waitlist_position,
                last=result.waitlisted[-1].waitlist_position,
            )
        )
    if result.applied:
        parts.append(
            ngettext("%(num)d added as applied.", "%(num)d added as applied.", len(result.applied))
        )
    if result.already:
        names = ", ".join(f"{e.person.full_name} ({label_for(e.status)})" for e in result.already)
        parts.append(_("Already on the roster, left unchanged: %(names)s.", names=names))
    return " ".join(parts)


def _enrol_picked(cohort_id: int, form: EnrolForm) -> services.EnrolResult:
    ids = form.person_ids.data
    if people_outside_scope(ids):  # ids not offered by the search: same as missing
        raise DomainError(
            _("Some of the people picked are no longer in the directory. Search again."),
            "person_ids",
        )
    # One person already on the roster is refused; in a group, reported.
    return services.enrol_people(
        cohort_id, ids, actor=current_user, status=form.status.data, refuse_already=len(ids) == 1
    )


def _enrol_view(
    cohort_id: int,
    form: EnrolForm | EnrolByEmailForm,
    enrol: Callable[[int, Any], Any],
    success: Success,
    form_name: str,
    **back: Any,
) -> Response | tuple[str, int]:
    """Enrol with ``form`` (``enrol(cohort id, form)``), then back to the enrolments page
    (``back``: its query string); else the page again with ``form`` (``form_name``) and why."""
    cohort = cohort_or_404(cohort_id)
    if form.validate_on_submit() and run_action(lambda: enrol(cohort.id, form), success, form=form):
        return redirect(url_for("enrolments.manage", cohort_id=cohort.id, **back))
    return _render_manage(cohort, status=400, **{form_name: form})


@bp.post("/cohorts/<int:cohort_id>/enrolments")
@coordinator_only
def enrol(cohort_id: int) -> Response | tuple[str, int]:
    """Enrol the people ticked in the search results, in one transaction."""
    form = EnrolForm()
    return _enrol_view(
        cohort_id,
        form,
        _enrol_picked,
        lambda result: (_enrolled_message(result), "success" if result.created else "warning"),
        "enrol_form",
        q=form.q.data or None,
    )


@bp.post("/cohorts/<int:cohort_id>/enrolments/by-email")
@coordinator_only
def enrol_by_email(cohort_id: int) -> Response | tuple[str, int]:
    """Enrol one person given by e-mail."""
    return _enrol_view(cohort_id, EnrolByEmailForm(), _enrol_by_email, _added_message, "email_form")


def _enrol_by_email(cohort_id: int, form: EnrolByEmailForm) -> Enrolment:
    person = services.person_by_email(form.email.data)
    return services.enrol(cohort_id, person.id, actor=current_user, status=form.as_status.data)


def _added_message(enrolment: Enrolment) -> str:
    name = enrolment.person.full_name
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        return _(
            "%(name)s is on the waitlist, place %(n)s.", name=name, n=enrolment.waitlist_position
        )
    return _("%(name)s added as %(status)s.", name=name, status=label_for(enrolment.status))


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/status")
@coordinator_only
def change_status(cohort_id: int, enrolment_id: int) -> Response:
    form = StatusForm()

    def work(enrolment: Enrolment) -> str:
        services.change_status(enrolment, form.status.data, actor=current_user)
        return _status_message(enrolment)

    return _perform_on(cohort_id, enrolment_id, form, work)


def filled_message(filled: list[Enrolment]) -> str:
    """ "Ana Aliyeva took a free seat from the waitlist." (and the others promoted)."""
    return ngettext(
        "%(names)s took a free seat from the waitlist and was told by e-mail.",
        "%(names)s took free seats from the waitlist and were told by e-mail.",
        len(filled),
        names=", ".join(e.person.full_name for e in filled),
    )


def _status_message(enrolment: Enrolment) -> str:
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        return _added_message(enrolment)
    return _(
        "%(name)s is now %(status)s.",
        name=enrolment.person.full_name,
        status=label_for(enrolment.status),
    )


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw")
@coordinator_only
def withdraw(cohort_id: int, enrolment_id: int) -> Response:
    form = BackForm()

    def work(enrolment: Enrolment) -> str:
        done = enrolment_waitlist.withdraw(enrolment, actor=current_user)
        # Without auto-fill, the roster then offers the free seat to the next on the waitlist.
        return " ".join(
            [
                _("%(name)s has withdrawn.", name=enrolment.person.full_name),
                *([filled_message(done.filled)] if done.filled else []),
            ]
        )

    return _perform_on(cohort_id, enrolment_id, form, work)


@bp.post("/cohorts/<int:cohort_id>/enrolments/promote")
@coordinator_only
def promote(cohort_id: int) -> Response:
    """Give a free seat to the first on the waitlist, or to the one chosen."""
    cohort_or_404(cohort_id)
    form = PromoteForm()
    if form.enrolment_id.data is not None:  # someone else's enrolment: 404
        _enrolment_or_404(cohort_id, form.enrolment_id.data)

    def work() -> str:
        enrolment = enrolment_waitlist.promote(
            cohort_id, actor=current_user, enrolment_id=form.enrolment_id.data
        )
        return _("%(name)s is enrolled from the waitlist.", name=enrolment.person.full_name)

    return _perform(cohort_id, form, work)


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/move")
@coordinator_only
def move(cohort_id: int, enrolment_id: int) -> Response:
    """Move someone up or down the waitlist."""
    form = MoveForm()

    def work(enrolment: Enrolment) -> str:
        enrolment_waitlist.move_on_waitlist(enrolment, form.step, actor=current_user)
        return _(
            "%(name)s is now at place %(n)s on the waitlist.",
            name=enrolment.person.full_name,
            n=enrolment.waitlist_position,
        )

    return _perform_on(cohort_id, enrolment_id, form, work)
