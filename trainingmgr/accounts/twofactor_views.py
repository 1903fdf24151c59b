"""Pages of two-factor sign-in: the code after the password, set-up, recovery codes, and an
administrator's reset. Routes of the ``accounts`` blueprint (imported by its views)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts import sessions, twofactor
from trainingmgr.accounts.forms import CodeForm
from trainingmgr.accounts.models import Role, User
from trainingmgr.accounts.views import bp  # imported at the end of accounts.views
from trainingmgr.core.forms import FlaskForm
from trainingmgr.core.permissions import roles_required, signed_in
from trainingmgr.core.qr import qr_svg
from trainingmgr.core.urls import safe_next
from trainingmgr.core.views import run_action, submit
from trainingmgr.extensions import db, limiter

CODE_LIMIT_PER_ACCOUNT = "5/minute"
CODE_LIMIT_PER_IP = "20/minute"


def _account_key() -> str:
    """Code attempts are counted per account (whatever the device or address)."""
    return "account:" + str(session.get(sessions.SESSION_KEY, "")).split(":", 1)[0]


def _next() -> str:
    return safe_next(request.values.get("next")) or url_for("home.index")


def _me() -> User:
    return current_user._get_current_object()


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(CODE_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(CODE_LIMIT_PER_ACCOUNT, methods=["POST"], key_func=_account_key)
@signed_in
def second_factor() -> str | Response:
    """After the password or an e-mailed link: the code from the authenticator app."""
    sign_in = sessions.current()
    if sign_in is None or sign_in.second_factor_at is not None:
        return redirect(_next())
    if not twofactor.enabled(_me()):
        return redirect(url_for("accounts.two_factor_setup", next=request.values.get("next")))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        ok = twofactor.verify(_me(), form.code.data, sign_in, ip=request.remote_addr)
        db.session.commit()
        if ok:
            return redirect(_next())
        form.code.errors = [
            _("This code is not right, or was already used. Type the code the app shows now.")
        ]
        status = 400
    return render_template("accounts/second_factor.html", form=form, next=_next()), status


@bp.route("/me/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor_setup() -> str | Response:
    """Set up two-factor sign-in (QR code, then the first code), or see its state."""
    user = _me()
    if twofactor.enabled(user):
        return render_template(
            "accounts/two_factor.html",
            user=user,
            required=twofactor.required(user),
            remaining=twofactor.remaining_recovery_codes(user),
            action_form=FlaskForm(),
        )
    from trainingmgr.organisation.services import organisation_name

    setup = twofactor.begin_setup(user, organisation_name())
    db.session.commit()
    form = CodeForm()
    done = submit(
        form,
        lambda: twofactor.confirm_setup(
            user, form.code.data, sign_in=sessions.current(), ip=request.remote_addr
        ),
    )
    if done:
        return render_template(
            "accounts/recovery_codes.html", codes=done.value, next=_next(), first=True
        )
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        setup=setup,
        qr=qr_svg(setup.uri, title=_("QR code for your authenticator app"), css_class="setup-qr"),
        required=twofactor.required(user),
        next=request.values.get("next"),
    )


@bp.route("/me/two-factor/recovery-codes", methods=["POST"])
@signed_in
def new_recovery_codes() -> str | Response:
    user = _me()
    if not FlaskForm().validate() or not twofactor.enabled(user):
        abort(400)
    codes = twofactor.new_recovery_codes(user)
    db.session.commit()
    return render_template(
        "accounts/recovery_codes.html", codes=codes, next=url_for(".two_factor_setup"), first=False
    )


@bp.route("/me/two-factor/off", methods=["POST"])
@signed_in
def two_factor_off() -> Response:
    if not FlaskForm().validate():
        abort(400)
    run_action(
        lambda: twofactor.turn_off(_me(), actor=_me(), ip=request.remote_addr),
        _("Two-factor sign-in is off for your account."),
    )
    return redirect(url_for(".two_factor_setup"))


@bp.route("/admin/accounts/<int:user_id>/two-factor/reset", methods=["POST"])
@roles_required(Role.ADMIN)
def two_factor_reset(user_id: int) -> Response:
    """An administrator removes someone's second factor (a lost phone, no recovery code)."""
    user = db.get_or_404(User, user_id)
    if not FlaskForm().validate():
        abort(400)
    run_action(  # refused only for an administrator resetting their own required factor
        lambda: twofactor.turn_off(user, actor=_me(), ip=request.remote_addr),
        _(
            "%(email)s's second factor was removed and they were signed out: they set it "
            "up again at their next sign-in if it is required.",
            email=user.email,
        ),
    )
    return redirect(url_for("admin.account", user_id=user.id))
