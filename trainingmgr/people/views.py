"""The people directory: list and search, create, edit, the person page, merge."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.scope import managed_programme_ids, person_in_scope
from trainingmgr.core.views import load_or_404, passes, run_action, submit
from trainingmgr.extensions import db
from trainingmgr.people import services
from trainingmgr.people.duplicates import likely_duplicates_of
from trainingmgr.people.forms import MergeForm, PersonForm
from trainingmgr.people.models import FIELD_LABELS, Person

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.route("/")
@coordinator_only
def index() -> str:
    filters = services.DirectoryFilter.from_args(request.args)
    page, per_page = page_args(request.args)
    scope = managed_programme_ids()
    return render_template(
        "people/index.html",
        filters=filters,
        result=services.directory(filters, page, per_page, scope),
        options=services.directory_options(scope),
        roles=services.DirectoryRole,
    )


def _render_form(form: PersonForm, person: Person | None, similar: Sequence[Person] = ()) -> str:
    return render_template(
        "people/form.html",
        form=form,
        person=person,
        similar=similar,
        countries=services.country_choices(),
    )


# The last forms that added someone: form token -> the person added (in the user's session).
_ADDED = "people_added"
_ADDED_KEPT = 20


def _added_with(token: str | None) -> Person | None:
    person_id = session.get(_ADDED, {}).get(token or "")
    return db.session.get(Person, person_id) if person_id else None


def _remember_added(token: str | None, person: Person) -> None:
    if token:
        added = dict(list(session.get(_ADDED, {}).items())[-(_ADDED_KEPT - 1) :])
        added[token] = person.id
        session[_ADDED] = added


@bp.route("/new", methods=["GET", "POST"])
@coordinator_only
def create() -> str | Response:
    form = PersonForm()
    if request.method == "GET":
        form.form_token.data = secrets.token_urlsafe(16)
    earlier = _added_with(form.form_token.data) if request.method == "POST" else None
    if earlier is not None:  # the same form sent again: Back, then Save
        flash(_("%(name)s was already added with this form.", name=earlier.full_name), "info")
        return redirect(url_for("people.detail", person_id=earlier.id))
    similar: list[Person] = []
    check = lambda: services.check_person(form.to_data())  # noqa: E731
    # The rules' errors first (the save below shows them): the duplicate warning is about
    # values that can be saved.
    submitted = form.is_submitted() and form.validate() and not form.not_duplicate.data
    if submitted and passes(form, check):
        similar = likely_duplicates_of(form.to_data(), managed_programme_ids())
    if not similar:
        created = submit(
            form,
            lambda: services.create_person(form.to_data(), actor=current_user),
            lambda person: _("%(name)s was added.", name=person.full_name),
            check=check,
        )
        if created:
            _remember_added(form.form_token.data, created.value)
            return redirect(url_for("people.detail", person_id=created.value.id))
    return _render_form(form, None, similar)


@bp.route("/<int:person_id>")
@coordinator_only
def detail(person_id: int) -> str:
    detail = load_or_404(services.person_detail, person_id, managed_programme_ids())
    return render_template("people/detail.html", detail=detail)


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit(person_id: int) -> str | Response:
    person = db.get_or_404(Person, person_id)
    if person.merged_into_id is not None:
        flash(_("This record was merged into another one; edit that record instead."), "info")
        return redirect(url_for("people.detail", person_id=person.merged_into_id))
    form = PersonForm(obj=person)
    if request.method == "GET":
        form.country.data = services.country_name(person.country)
    if submit(
        form,
        lambda: services.update_person(person, form.to_data(), actor=current_user),
        lambda changes: (
            _("The changes to %(name)s were saved.", name=person.full_name)
            if changes
            else (_("Nothing was changed."), "info")
        ),
        check=lambda: services.check_person(form.to_data(), person.id),
    ):
        return redirect(url_for("people.detail", person_id=person.id))
    return _render_form(form, person)


def _chosen(form: MergeForm, name: str) -> Person | None:
    """The person whose id is in ``form[name]``; an error on the field when there is none."""
    person_id = form[name].data
    if not person_id:
        return None
    if form[name].errors:  # not a record number (too large, below 1): named as none
        form[name].errors = [_("There is no record #%(id)s.", id=person_id)]
        return None
    person = db.session.get(Person, person_id)
    if person is None or not person_in_scope(person_id):
        person = None
        form[name].errors = [*form[name].errors, _("There is no record #%(id)s.", id=person_id)]
    return person


@bp.route("/merge", methods=["GET", "POST"])
@coordinator_only
def merge() -> str | Response:
    """Choose the record to keep and the duplicate, preview what moves, then confirm."""
    posted = request.method == "POST"
    form = MergeForm() if posted else MergeForm(formdata=request.args, meta={"csrf": False})
    if posted and not form.validate():
        abort(400)
    if not posted:
        form.validate()  # only to convert the numbers; empty fields are not an error yet
        for name in ("keep", "duplicate"):
            if not request.args.get(name):
                form[name].errors = []
    keep, duplicate = _chosen(form, "keep"), _chosen(form, "duplicate")
    scope = managed_programme_ids()
    plan = None
    if keep is not None and duplicate is not None:
        if posted:
            if run_action(
                lambda: services.merge_people(
                    keep, duplicate, actor=current_user, programme_ids=scope
                ),
                _(
                    "Record #%(dup)s was merged into %(name)s.",
                    dup=duplicate.id,
                    name=keep.full_name,
                ),
                form=form,
            ):
                return redirect(url_for("people.detail", person_id=keep.id))
        else:
            planned = run_action(lambda: services.plan_merge(keep, duplicate, scope), form=form)
            plan = planned.value if planned else None
    elif posted:
        abort(404)
    q = (request.args.get("q") or "").strip()
    candidates = (
        services.directory(services.DirectoryFilter(q=q), 1, 20, scope).items if q else None
    )
    return render_template(
        "people/merge.html",
        form=form,
        keep=keep,
        duplicate=duplicate,
        plan=plan,
        q=q,
        candidates=candidates,
        form_labels=FIELD_LABELS,
    )
