"""Accounts administration (administrators) and invitations (administrators and
coordinators)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
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
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.views import run_action, submit

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
    saved = submit(
        form,
        lambda: services.update_account(
            user,
            form.roles.data or [],
            form.programmes.data or [],
            actor=_me(),
            ip=request.remote_addr,
        ),
        lambda changed: (
            _("The account %(email)s was saved.", email=user.email)
            if changed
            else (_("Nothing was changed."), "info")
        ),
    )
    if saved:
        if not _me().has_role(Role.ADMIN):  # an administrator who stepped down
            return redirect(url_for("home.index"))
        return redirect(url_for("admin.account", user_id=user.id))
    if saved is not None:  # refused: show the account as stored
        user = _account(user_id)
    return _account_page(user, form, PersonLinkForm(formdata=None, obj=user))


def _linked_message(user: User, changed: bool) -> str | tuple[str, str]:
    if changed and user.person is not None:
        return _(
            "%(email)s is now linked to %(name)s.", email=user.email, name=user.person.full_name
        )
    if changed:
        return _("%(email)s is no longer linked to a person record.", email=user.email)
    return _("Nothing was changed."), "info"


@bp.route("/accounts/<int:user_id>/person", methods=["POST"])
@admin_only
def account_person(user_id: int) -> str | Response:
    user = _account(user_id)
    link_form = PersonLinkForm()
    if not link_form.validate():
        return _account_page(user, _account_form(user), link_form)
    person_id = link_form.person_id.data if request.form.get("action") != "unlink" else None
    if not run_action(
        lambda: services.link_person(user, person_id, actor=_me(), ip=request.remote_addr),
        lambda changed: _linked_message(user, changed),
        form=link_form,
    ):
        user = _account(user_id)
        return _account_page(user, _account_form(user), link_form)
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
    grantable = services.grantable_roles(actor=me)
    programmes = services.invitable_programmes(actor=me)
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
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
        )
        invited = run_action(
            lambda: services.invite(data, actor=me, ip=request.remote_addr),
            lambda user: _(
                "The invitation was e-mailed to %(email)s. The link works for %(days)s days.",
                email=user.email,
                days=services.INVITATION_LIFETIME.days,
            ),
            form=form,
        )
        if invited:
            if me.has_role(Role.ADMIN):
                return redirect(url_for("admin.account", user_id=invited.value.id))
            return redirect(url_for("admin.invite"))
    return render_template(
        "admin/invite.html",
        form=form,
        is_admin=me.has_role(Role.ADMIN),
        has_programmes=bool(programmes),
    )
