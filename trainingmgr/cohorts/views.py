"""Cohort and session pages for coordinators (and admins), and the .ics calendars."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict
from functools import cache, partial
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from trainingmgr.accounts.models import Role
from trainingmgr.cohorts import calendar as ics
from trainingmgr.cohorts import listing, schedule, services
from trainingmgr.cohorts import overview as cohort_overview
from trainingmgr.cohorts import sessions as session_services
from trainingmgr.cohorts.forms import (
    CancelSessionForm,
    CohortFilterForm,
    CohortForm,
    SeriesForm,
    SessionForm,
)
from trainingmgr.cohorts.models import Cohort, Session
from trainingmgr.core.forms import grouped_options, options
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.scope import managed_programme_ids, require_programme
from trainingmgr.core.timefmt import current_timezones
from trainingmgr.core.views import Done, attempt, load_or_404, run_action
from trainingmgr.enrolments.views import filled_message, roster_page
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.programmes.models import Programme

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")


# --------------------------------------------------------------------------- helpers


@cache
def time_zones() -> list[str]:
    """IANA zone names offered in the time zone field."""
    return list(current_timezones())


def _attempt_confirmed(form: Any, action: Callable[[], Any]) -> tuple[Done[Any] | None, list[str]]:
    """``attempt`` for a change of the schedule: when the service wants its warnings
    confirmed (``NeedsConfirmation``), nothing is written and the warnings come back, with
    the form set up to confirm exactly these."""

    def guarded() -> Any:
        try:
            return action()
        except schedule.NeedsConfirmation as exc:
            db.session.rollback()
            return exc

    done = attempt(guarded, form)
    if done is not None and isinstance(done.value, schedule.NeedsConfirmation):
        form.acknowledged.data = done.value.digest
        form.confirm.data = False
        return None, done.value.warnings
    return done, []


# --------------------------------------------------------------------------- cohorts


@bp.route("/")
@coordinator_only
def index() -> str:
    form = CohortFilterForm(request.args)
    scope = managed_programme_ids()
    programmes = listing.programme_choices(programme_ids=scope)
    form.programme_id.choices = options(
        [("", _("All programmes")), *((p.id, f"{p.code} — {p.title}") for p in programmes)]
    )
    form.validate()
    status = form.status.data if not form.status.errors else ""
    period = form.period.data if not form.period.errors else ""
    filters = listing.CohortFilter(
        programme_id=form.programme_id.data,
        status=status or "",
        period=period or "",
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
        programme_ids=None if scope is None else frozenset(scope),
    )
    page, per_page = page_args(request.args)
    result = listing.list_cohorts(filters, page, per_page)
    return render_template("cohorts/index.html", form=form, result=result)


def _cohort_form(programme: Programme, cohort: Cohort | None = None) -> CohortForm:
    defaults = services.cohort_input(cohort) if cohort else services.cohort_defaults(programme)
    form = CohortForm(data=asdict(defaults) if request.method == "GET" else None)
    keep = set(defaults.required_module_ids)
    form.required_module_ids.choices = options(
        (m.id, f"{m.code} — {m.title}") for m in programme.modules if not m.retired or m.id in keep
    )
    parents = listing.parent_choices(cohort, managed_programme_ids())
    form.parent_cohort_id.choices = options([("", _("None")), *parents])
    form.offered_parent_ids = {cid for cid, _label in parents}
    return form


def _offered(form: Any) -> bool:
    """Whether the parent cohort and trainers chosen are among those the form offered (ids
    of other programmes' cohorts or of people outside the coordinator's scope are refused)."""
    ok = True
    parent = getattr(form, "parent_cohort_id", None)
    if parent is not None and parent.data and parent.data not in form.offered_parent_ids:
        parent.errors = [*parent.errors, _("Choose a cohort from the list.")]
        ok = False
    trainers = getattr(form, "trainer_ids", None)
    if trainers is not None and set(trainers.data or []) - form.offered_trainer_ids:
        trainers.errors = [*trainers.errors, _("Choose the trainers from the list.")]
        ok = False
    return ok


def _cohort_checked(form: CohortForm, programme: Programme, cohort: Cohort | None) -> bool:
    """On submit: the form's own errors and every rule of the cohort it breaks, all at once,
    each next to its field (the page lists them at the top). True when there are none."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    offered = _offered(form)
    try:
        data = form.to_input()
    except (ValueError, TypeError):  # a choice not offered: its field already says so
        data = None
    if data is not None:
        for exc in services.cohort_errors(programme, data, cohort):
            target = form[exc.field] if exc.field and exc.field in form else None
            if target is None:
                flash(exc.message, "danger")
            elif not target.errors:
                target.errors = [*target.errors, exc.message]
    return valid and offered and not any(f.errors for f in form)


def _render_cohort_form(form: CohortForm, programme: Programme, cohort: Cohort | None) -> str:
    return render_template(
        "cohorts/form.html", form=form, programme=programme, cohort=cohort, zones=time_zones()
    )


@bp.route("/new", methods=["GET", "POST"])
@coordinator_only
def create() -> str | BaseResponse:
    programme_id = request.args.get("programme_id", type=int)
    if programme_id is None:
        return render_template(
            "cohorts/choose_programme.html",
            programmes=listing.programme_choices(
                include_archived=False, programme_ids=managed_programme_ids()
            ),
        )
    require_programme(programme_id)
    programme = db.get_or_404(Programme, programme_id)
    form = _cohort_form(programme)
    if _cohort_checked(form, programme, None):
        done = attempt(
            lambda: services.create_cohort(programme, form.to_input(), actor=current_user), form
        )
        if done:
            flash(_("Cohort “%(name)s” created.", name=done.value.name), "success")
            return redirect(url_for(".detail", cohort_id=done.value.id))
    return _render_cohort_form(form, programme, None)


@bp.route("/<int:cohort_id>")
@coordinator_only
def detail(cohort_id: int) -> str:
    cohort = services.cohort_or_404(cohort_id)
    overview = cohort_overview.overview(cohort)
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        overview=overview,
        roster=roster_page(cohort.id),
        status_actions=[
            action
            for action, (_target, allowed_from) in services.STATUS_ACTIONS.items()
            if cohort.status in allowed_from
        ],
    )


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit(cohort_id: int) -> str | BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    programme = cohort.programme
    form = _cohort_form(programme, cohort)
    done = _cohort_checked(form, programme, cohort) and attempt(
        lambda: services.update_cohort(cohort, form.to_input(), actor=current_user), form
    )
    if done:
        saved = _("Cohort “%(name)s” saved.", name=cohort.name)
        filled = [filled_message(done.value)] if done.value else []
        flash(" ".join([saved, *filled]), "success")
        return redirect(url_for(".detail", cohort_id=cohort.id))
    return _render_cohort_form(form, programme, cohort)


@bp.route("/<int:cohort_id>/status", methods=["POST"])
@coordinator_only
def change_status(cohort_id: int) -> BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    action = request.form.get("action", "")
    messages = {
        "open": _("The cohort is open."),
        "close": _("The cohort is closed."),
        "archive": _("The cohort is archived: it is hidden from lists and kept."),
        "unarchive": _("The cohort is no longer archived."),
    }
    run_action(
        lambda: services.change_status(cohort, action, actor=current_user),
        messages.get(action, ""),
    )
    return redirect(url_for(".detail", cohort_id=cohort_id))


@bp.route("/<int:cohort_id>/delete", methods=["POST"])
@coordinator_only
def delete(cohort_id: int) -> BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    name = cohort.name
    if run_action(
        lambda: services.delete_cohort(cohort, actor=current_user),
        _("Cohort “%(name)s” deleted.", name=name),
    ):
        return redirect(url_for(".index"))
    return redirect(url_for(".detail", cohort_id=cohort_id))


# --------------------------------------------------------------------------- sessions


def _session_choices(
    form: Any,
    cohort: Cohort,
    keep_module_id: int | None = None,
    keep_trainer_ids: Collection[int] = (),
) -> None:
    modules = listing.module_choices(cohort.programme_id, keep_module_id)
    form.module_id.choices = options(
        [
            ("", _("No module")),
            *(
                (m.id, f"{m.code} — {m.title}" + (f" ({_('retired')})" if m.retired else ""))
                for m in modules
            ),
        ]
    )
    trainers = listing.trainer_choices(
        managed_programme_ids(), keep=keep_trainer_ids, programme_id=cohort.programme_id
    )
    form.trainer_ids.choices = grouped_options(trainers)
    form.offered_trainer_ids = {row[0] for group in trainers.values() for row in group}
    form.trainer_ids.search_only = list(trainers)[-1:]  # everyone else: shown when searched for


def _session_defaults(cohort: Cohort) -> dict[str, Any]:
    return {
        "mode": cohort.delivery_mode,
        "location": cohort.venue,
        "online_url": cohort.online_url,
    }


def _session_form_view(
    form: Any,
    cohort: Cohort,
    template: str,
    save: Callable[..., Any],
    message: Callable[[Any], str],
    **context: Any,
) -> str | BaseResponse:
    """The flow of every session form: validate, save (the service ``save`` with the form's
    input, the actor and the warnings acknowledged; or show the schedule warnings to confirm),
    then back to the cohort's schedule with ``message(result)``."""
    warnings: list[str] = []
    if form.validate_on_submit() and _offered(form):
        done, warnings = _attempt_confirmed(
            form,
            lambda: save(
                form.to_input(), actor=current_user, acknowledged=form.acknowledged_digest()
            ),
        )
        if done:
            flash(message(done.value), "success")
            return redirect(url_for(".detail", cohort_id=cohort.id) + "#schedule")
    return render_template(template, form=form, cohort=cohort, warnings=warnings, **context)


@bp.route("/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@coordinator_only
def session_new(cohort_id: int) -> str | BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    defaults = {**_session_defaults(cohort), "day": cohort.start_date}
    form = SessionForm(data=defaults if request.method == "GET" else None)
    _session_choices(form, cohort)
    return _session_form_view(
        form,
        cohort,
        "cohorts/session_form.html",
        partial(session_services.add_session, cohort),
        lambda _session: _("Session added."),
        session=None,
    )


@bp.route("/<int:cohort_id>/sessions/series", methods=["GET", "POST"])
@coordinator_only
def session_series(cohort_id: int) -> str | BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    defaults = {
        **_session_defaults(cohort),
        "start_date": cohort.start_date,
        "end_date": cohort.end_date,
        "weekdays": [0, 1, 2, 3, 4],
        "interval_weeks": 1,
    }
    form = SeriesForm(data=defaults if request.method == "GET" else None)
    _session_choices(form, cohort)
    names = get_day_names("wide", locale=str(get_locale() or "en"))
    form.weekdays.choices = options((i, names[i]) for i in range(7))
    return _session_form_view(
        form,
        cohort,
        "cohorts/series_form.html",
        partial(session_services.add_series, cohort),
        lambda sessions: ngettext(
            "%(num)d session added.", "%(num)d sessions added.", len(sessions)
        ),
    )


def told_message(told: int) -> str:
    if not told:
        return _("Nobody was told by e-mail.")
    return ngettext(
        "%(num)d person was told by e-mail.", "%(num)d people were told by e-mail.", told
    )


def _move_notice(form: SessionForm, session: Session) -> session_services.ChangeNotice | None:
    """When the form moves a session whose people would be told, and the coordinator has not
    yet seen who and what for these times: the notice to show before saving."""
    if not session.scheduled:
        return None  # a cancelled session's people are not told of a move
    if request.method != "POST" or not form.validate() or not _offered(form):
        return None
    moved = session_services.proposed_times(session, form.to_input())
    if moved is None:
        return None
    key = f"{moved[0].isoformat()}/{moved[1].isoformat()}"
    if form.notice_for.data == key:
        return None
    notice = session_services.change_notice(session, notify.MOVED, starts=moved[0], ends=moved[1])
    if not notice.count:
        return None
    form.notice_for.data = key
    form.tell.data = True
    return notice


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@coordinator_only
def session_edit(cohort_id: int, session_id: int) -> str | BaseResponse:
    cohort = services.cohort_or_404(cohort_id)
    session = session_services.session_or_404(cohort_id, session_id)
    data = asdict(session_services.session_input(session)) if request.method == "GET" else None
    form = SessionForm(data=data)
    _session_choices(
        form,
        cohort,
        keep_module_id=session.module_id,
        keep_trainer_ids=[p.id for p in session.trainers],
    )
    notice = _move_notice(form, session)
    if notice is not None:
        return render_template(
            "cohorts/session_form.html",
            form=form,
            cohort=cohort,
            warnings=[],
            session=session,
            notice=notice,
        )
    seen = bool(form.notice_for.data)
    return _session_form_view(
        form,
        cohort,
        "cohorts/session_form.html",
        partial(session_services.update_session, session, tell=form.tell.data if seen else True),
        lambda saved: " ".join(
            [_("Session saved."), *([told_message(saved.told)] if seen else [])]
        ),
        session=session,
    )


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@coordinator_only
def session_cancel(cohort_id: int, session_id: int) -> str | BaseResponse:
    """Who will be told and what, the attendance already recorded, then cancel."""
    cohort = services.cohort_or_404(cohort_id)
    session = session_services.session_or_404(cohort_id, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        done = attempt(
            lambda: session_services.set_session_cancelled(
                session,
                True,
                actor=current_user,
                tell=form.tell.data,
                records_confirmed=form.records_confirmed.data,
            ),
            form,
        )
        if done:
            cancelled = _("Session cancelled: it stays in the schedule, struck through.")
            flash(f"{cancelled} {told_message(done.value)}", "success")
            return redirect(url_for(".detail", cohort_id=cohort_id) + "#schedule")
    return render_template(
        "cohorts/session_cancel.html",
        form=form,
        cohort=cohort,
        session=session,
        notice=session_services.change_notice(session, notify.CANCELLED),
        records=session_services.attendance_count(session),
    )


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/uncancel", methods=["POST"])
@coordinator_only
def session_uncancel(cohort_id: int, session_id: int) -> BaseResponse:
    session = session_services.session_or_404(cohort_id, session_id)
    done = attempt(
        lambda: session_services.set_session_cancelled(session, False, actor=current_user)
    )
    if done:
        flash(f"{_('Session restored.')} {told_message(done.value)}", "success")
    return redirect(url_for(".detail", cohort_id=cohort_id) + "#schedule")


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/delete", methods=["POST"])
@coordinator_only
def session_delete(cohort_id: int, session_id: int) -> BaseResponse:
    session = session_services.session_or_404(cohort_id, session_id)
    run_action(
        lambda: session_services.delete_session(session, actor=current_user), _("Session deleted.")
    )
    return redirect(url_for(".detail", cohort_id=cohort_id) + "#schedule")


# --------------------------------------------------------------------------- calendars


def _ics_response(file: ics.CalendarFile) -> Response:
    response = Response(file.body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<int:cohort_id>/calendar.ics")
@coordinator_only
def calendar(cohort_id: int) -> Response:
    return _ics_response(ics.cohort_calendar(services.cohort_or_404(cohort_id)))


@bp.route("/trainers/<int:person_id>/calendar.ics")
@roles_required(Role.COORDINATOR, Role.TRAINER)
def trainer_calendar(person_id: int) -> Response:
    return _ics_response(load_or_404(ics.trainer_calendar, person_id, actor=current_user))
