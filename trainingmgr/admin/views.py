"""Accounts administration (administrators) and invitations (administrators and
coordinators)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts.models import Role, User
from trainingmgr.admin import services
from trainingmgr.admin.forms import (
    AccountForm,
    ActionForm,
    ActiveForm,
    InviteForm,
    PersonLinkForm,
    programme_options,
    role_options,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.views import run_action, show_error
from trainingmgr.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")

admin_only = roles_required(Role.ADMIN)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _account(user_id: int) -> User:
    user = services.get_account(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/accounts")
@admin_only
def accounts_list() -> str:
    filters = services.AccountFilter.from_args(request.args)
    page, per_page = page_args(request.args)
    return render_template(
        "admin/accounts.html",
        filters=filters,
        result=services.account_list(filters, page, per_page),
        programmes=services.programme_options(),
        roles=list(Role),
        statuses=services.STATUS_FILTERS,
        timezone=accounts.display_timezone(_me()),
    )


def _account_page(user: User, form: AccountForm, link_form: PersonLinkForm) -> str:
    person_q = (request.args.get("person_q") or "").strip()[:200]
    return render_template(
        "admin/account.html",
        account=user,
        form=form,
        link_form=link_form,
        action_form=ActionForm(),
        status=services.account_status(user, services.open_invitation_until(user)),
        invitation_until=services.open_invitation_until(user),
        person_q=person_q,
        candidates=services.person_candidates(person_q) if person_q else None,
        events=services.account_events(user),
        event_label=services.event_label,
        timezone=accounts.display_timezone(_me()),
    )


def _account_form(user: User, posted: bool = False) -> AccountForm:
    """The roles and programmes form: as posted, or filled from the account."""
    form = AccountForm() if posted else AccountForm(formdata=None)
    form.roles.choices = role_options(list(Role))
    form.programmes.choices = programme_options(services.programme_options())
    if not posted:
        form.roles.data = sorted(r.value for r in user.stored_roles)
        form.programmes.data = [p.id for p in user.programmes]
    return form


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@admin_only
def account(user_id: int) -> str | Response:
    user = _account(user_id)
    form = _account_form(user, posted=request.method == "POST")
    if form.validate_on_submit():
        try:
            changed = services.update_account(
                user,
                form.roles.data or [],
                form.programmes.data or [],
                actor=_me(),
                ip=request.remote_addr,
            )
        except DomainError as exc:
            db.session.rollback()
            user = _account(user_id)
            show_error(form, exc)
        else:
            db.session.commit()
            if changed:
                flash(_("The account %(email)s was saved.", email=user.email), "success")
            else:
                flash(_("Nothing was changed."), "info")
            if not _me().has_role(Role.ADMIN):  # an administrator who stepped down
                return redirect(url_for("home.index"))
            return redirect(url_for("admin.account", user_id=user.id))
    return _account_page(user, form, PersonLinkForm(formdata=None, obj=user))


@bp.route("/accounts/<int:user_id>/person", methods=["POST"])
@admin_only
def account_person(user_id: int) -> str | Response:
    user = _account(user_id)
    link_form = PersonLinkForm()
    if not link_form.validate():
        return _account_page(user, _account_form(user), link_form)
    person_id = link_form.person_id.data if request.form.get("action") != "unlink" else None
    try:
        changed = services.link_person(user, person_id, actor=_me(), ip=request.remote_addr)
    except DomainError as exc:
        db.session.rollback()
        user = _account(user_id)
        show_error(link_form, exc)
        return _account_page(user, _account_form(user), link_form)
    db.session.commit()
    if changed and user.person is not None:
        flash(
            _("%(email)s is now linked to %(name)s.", email=user.email, name=user.person.full_name),
            "success",
        )
    elif changed:
        flash(_("%(email)s is no longer linked to a person record.", email=user.email), "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/active", methods=["POST"])
@admin_only
def account_active(user_id: int) -> Response:
    user = _account(user_id)
    form = ActiveForm()
    if not form.validate() or form.active.data not in ("0", "1"):
        abort(400)
    active = form.active.data == "1"
    message = (
        _("%(email)s can sign in again.", email=user.email)
        if active
        else _("%(email)s is deactivated and signed out everywhere.", email=user.email)
    )
    run_action(
        lambda: services.set_active(user, active, actor=_me(), ip=request.remote_addr), message
    )
    return redirect(url_for("admin.account", user_id=user_id))


@bp.route("/accounts/<int:user_id>/invitation", methods=["POST"])
@admin_only
def resend_invitation(user_id: int) -> Response:
    user = _account(user_id)
    if not ActionForm().validate():
        abort(400)
    run_action(
        lambda: services.resend_invitation(user, actor=_me(), ip=request.remote_addr),
        _("A new invitation was e-mailed to %(email)s.", email=user.email),
    )
    return redirect(url_for("admin.account", user_id=user_id))


@bp.route("/invite", methods=["GET", "POST"])
@coordinator_only
def invite() -> str | Response:
    me = _me()
    form = InviteForm()
    grantable = services.grantable_roles(me)
    programmes = services.invitable_programmes(me)
    form.roles.choices = role_options(grantable)
    form.programmes.choices = programme_options(programmes)
    if request.method == "GET":
        wanted_role = request.args.get("role", "")
        if len(grantable) == 1:
            form.roles.data = [grantable[0].value]
        elif wanted_role in {r.value for r in grantable}:
            form.roles.data = [wanted_role]
        wanted = request.args.get("programme", type=int)
        if wanted and wanted in {p.id for p in programmes}:
            form.programmes.data = [wanted]
    if form.validate_on_submit():
        data = services.InvitationData(
            email=form.email.data or "",
            roles=form.roles.data or [],
            programme_ids=form.programmes.data or [],
            display_name=form.display_name.data or "",
        )
        try:
            user = services.invite(me, data, ip=request.remote_addr)
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "The invitation was e-mailed to %(email)s. The link works for %(days)s days.",
                    email=user.email,
                    days=services.INVITATION_LIFETIME.days,
                ),
                "success",
            )
            if me.has_role(Role.ADMIN):
                return redirect(url_for("admin.account", user_id=user.id))
            return redirect(url_for("admin.invite"))
    return render_template(
        "admin/invite.html",
        form=form,
        is_admin=me.has_role(Role.ADMIN),
        has_programmes=bool(programmes),
    )
