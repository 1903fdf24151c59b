"""Cohort and session pages for coordinators (and admins), and the .ics calendars."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import asdict
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from babel.dates import get_day_names
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse

from trainingmgr.accounts.models import Role, User
from trainingmgr.cohorts import calendar as ics
from trainingmgr.cohorts import services
from trainingmgr.cohorts.forms import (
    CohortFilterForm,
    CohortForm,
    SeriesForm,
    SessionForm,
)
from trainingmgr.cohorts.models import Cohort, Session
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.forms import grouped_options, options
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.scope import managed_programme_ids, require_programme
from trainingmgr.core.views import run_action, show_error
from trainingmgr.enrolments.views import roster_page
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Programme

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")


# --------------------------------------------------------------------------- helpers


@cache
def time_zones() -> list[str]:
    """IANA zone names offered in the time zone field."""
    return sorted(
        z for z in available_timezones() if not z.startswith(("posix", "right", "SystemV"))
    )


def _actor() -> User:
    return current_user._get_current_object()


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = services.load_cohort(cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _session_or_404(cohort_id: int, session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None or session.cohort_id != cohort_id:
        abort(404)
    return session


def _run(form: Any, action: Callable[[], Any]) -> tuple[bool, Any, list[str]]:
    """Call a service and commit; on refusal roll back and show why.

    Returns (saved, result, warnings): warnings are schedule warnings to confirm.
    """
    try:
        result = action()
    except services.NeedsConfirmation as exc:
        db.session.rollback()
        form.acknowledged.data = exc.digest
        form.confirm.data = False
        return False, None, exc.warnings
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return False, None, []
    db.session.commit()
    return True, result, []


def _optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to a page another feature provides, if that page exists."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --------------------------------------------------------------------------- cohorts


@bp.route("/")
@coordinator_only
def index() -> str:
    form = CohortFilterForm(request.args)
    scope = managed_programme_ids()
    programmes = services.programme_choices(programme_ids=scope)
    form.programme_id.choices = options(
        [("", _("All programmes")), *((p.id, f"{p.code} — {p.title}") for p in programmes)]
    )
    form.validate()
    status = form.status.data if not form.status.errors else ""
    period = form.period.data if not form.period.errors else ""
    filters = services.CohortFilter(
        programme_id=form.programme_id.data,
        status=status or "",
        period=period or "",
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
        programme_ids=None if scope is None else frozenset(scope),
    )
    page, per_page = page_args(request.args)
    result = services.list_cohorts(filters, page, per_page)
    return render_template("cohorts/index.html", form=form, result=result)


def _cohort_form(programme: Programme, cohort: Cohort | None = None) -> CohortForm:
    defaults = services.cohort_input(cohort) if cohort else services.cohort_defaults(programme)
    form = CohortForm(data=asdict(defaults) if request.method == "GET" else None)
    keep = set(defaults.required_module_ids)
    form.required_module_ids.choices = options(
        (m.id, f"{m.code} — {m.title}") for m in programme.modules if not m.retired or m.id in keep
    )
    parents = services.parent_choices(cohort, managed_programme_ids())
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
            programmes=services.programme_choices(
                include_archived=False, programme_ids=managed_programme_ids()
            ),
        )
    require_programme(programme_id)
    programme = db.get_or_404(Programme, programme_id)
    form = _cohort_form(programme)
    if form.validate_on_submit() and _offered(form):
        saved, cohort, _w = _run(
            form, lambda: services.create_cohort(programme, form.to_input(), _actor())
        )
        if saved:
            flash(_("Cohort “%(name)s” created.", name=cohort.name), "success")
            return redirect(url_for(".detail", cohort_id=cohort.id))
    return _render_cohort_form(form, programme, None)


@bp.route("/<int:cohort_id>")
@coordinator_only
def detail(cohort_id: int) -> str:
    cohort = _cohort_or_404(cohort_id)
    overview = services.overview(cohort)
    links = {
        "programme": _optional_url("programmes.detail", programme_id=cohort.programme_id),
        "attendance": _optional_url("attendance.cohort_matrix", cohort_id=cohort.id)
        or _optional_url("attendance.matrix", cohort_id=cohort.id),
        "certificates": _optional_url("certificates.cohort", cohort_id=cohort.id),
        "evaluations": _optional_url("evaluations.cohort", cohort_id=cohort.id),
    }
    return render_template(
        "cohorts/detail.html",
        cohort=cohort,
        overview=overview,
        roster=roster_page(cohort.id),
        links=links,
        session_attendance="attendance.roster" in current_app.view_functions,
        status_actions=[
            action
            for action, (_target, allowed_from) in services.STATUS_ACTIONS.items()
            if cohort.status in allowed_from
        ],
    )


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit(cohort_id: int) -> str | BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    programme = cohort.programme
    form = _cohort_form(programme, cohort)
    if form.validate_on_submit() and _offered(form):
        saved, _c, _w = _run(
            form, lambda: services.update_cohort(cohort, form.to_input(), _actor())
        )
        if saved:
            flash(_("Cohort “%(name)s” saved.", name=cohort.name), "success")
            return redirect(url_for(".detail", cohort_id=cohort.id))
    return _render_cohort_form(form, programme, cohort)


@bp.route("/<int:cohort_id>/status", methods=["POST"])
@coordinator_only
def change_status(cohort_id: int) -> BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    action = request.form.get("action", "")
    messages = {
        "open": _("The cohort is open."),
        "close": _("The cohort is closed."),
        "archive": _("The cohort is archived: it is hidden from lists and kept."),
        "unarchive": _("The cohort is no longer archived."),
    }
    run_action(
        lambda: services.change_status(cohort, action, _actor()),
        messages.get(action, ""),
    )
    return redirect(url_for(".detail", cohort_id=cohort_id))


@bp.route("/<int:cohort_id>/delete", methods=["POST"])
@coordinator_only
def delete(cohort_id: int) -> BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    name = cohort.name
    if run_action(
        lambda: services.delete_cohort(cohort, _actor()),
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
    modules = services.module_choices(cohort.programme_id, keep_module_id)
    form.module_id.choices = options(
        [
            ("", _("No module")),
            *(
                (m.id, f"{m.code} — {m.title}" + (f" ({_('retired')})" if m.retired else ""))
                for m in modules
            ),
        ]
    )
    trainers = services.trainer_choices(
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
    save: Callable[[], Any],
    message: Callable[[Any], str],
    **context: Any,
) -> str | BaseResponse:
    """The flow of every session form: validate, save (or show the schedule warnings to
    confirm), then back to the cohort's schedule with ``message(result)``."""
    warnings: list[str] = []
    if form.validate_on_submit() and _offered(form):
        saved, result, warnings = _run(form, save)
        if saved:
            flash(message(result), "success")
            return redirect(url_for(".detail", cohort_id=cohort.id) + "#schedule")
    return render_template(template, form=form, cohort=cohort, warnings=warnings, **context)


@bp.route("/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@coordinator_only
def session_new(cohort_id: int) -> str | BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    defaults = {**_session_defaults(cohort), "day": cohort.start_date}
    form = SessionForm(data=defaults if request.method == "GET" else None)
    _session_choices(form, cohort)
    return _session_form_view(
        form,
        cohort,
        "cohorts/session_form.html",
        lambda: services.add_session(cohort, form.to_input(), _actor(), form.acknowledged_digest()),
        lambda _session: _("Session added."),
        session=None,
    )


@bp.route("/<int:cohort_id>/sessions/series", methods=["GET", "POST"])
@coordinator_only
def session_series(cohort_id: int) -> str | BaseResponse:
    cohort = _cohort_or_404(cohort_id)
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
        lambda: services.add_series(cohort, form.to_input(), _actor(), form.acknowledged_digest()),
        lambda sessions: _("%(n)d sessions added.", n=len(sessions)),
    )


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@coordinator_only
def session_edit(cohort_id: int, session_id: int) -> str | BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    session = _session_or_404(cohort_id, session_id)
    data = asdict(services.session_input(session)) if request.method == "GET" else None
    form = SessionForm(data=data)
    _session_choices(
        form,
        cohort,
        keep_module_id=session.module_id,
        keep_trainer_ids=[p.id for p in session.trainers],
    )
    return _session_form_view(
        form,
        cohort,
        "cohorts/session_form.html",
        lambda: services.update_session(
            session, form.to_input(), _actor(), form.acknowledged_digest()
        ),
        lambda _session: _("Session saved."),
        session=session,
    )


@bp.route(
    "/<int:cohort_id>/sessions/<int:session_id>/cancel",
    methods=["POST"],
    defaults={"cancelled": True},
    endpoint="session_cancel",
)
@bp.route(
    "/<int:cohort_id>/sessions/<int:session_id>/uncancel",
    methods=["POST"],
    defaults={"cancelled": False},
    endpoint="session_uncancel",
)
@coordinator_only
def session_set_cancelled(cohort_id: int, session_id: int, cancelled: bool) -> BaseResponse:
    session = _session_or_404(cohort_id, session_id)
    run_action(
        lambda: services.set_session_cancelled(session, cancelled, _actor()),
        _("Session cancelled: it stays in the schedule, struck through.")
        if cancelled
        else _("Session restored."),
    )
    return redirect(url_for(".detail", cohort_id=cohort_id) + "#schedule")


@bp.route("/<int:cohort_id>/sessions/<int:session_id>/delete", methods=["POST"])
@coordinator_only
def session_delete(cohort_id: int, session_id: int) -> BaseResponse:
    session = _session_or_404(cohort_id, session_id)
    run_action(lambda: services.delete_session(session, _actor()), _("Session deleted."))
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
    return _ics_response(ics.cohort_calendar(_cohort_or_404(cohort_id)))


@bp.route("/trainers/<int:person_id>/calendar.ics")
@roles_required(Role.COORDINATOR, Role.TRAINER)
def trainer_calendar(person_id: int) -> Response:
    try:
        file = ics.trainer_calendar(person_id, _actor())
    except NotFound:
        abort(404)
    return _ics_response(file)
