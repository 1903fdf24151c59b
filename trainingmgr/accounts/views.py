"""Sign-in and sign-out, invitations, password reset by e-mailed link, password change."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from trainingmgr.accounts import services, sessions
from trainingmgr.accounts.forms import (
    NEW_PASSWORD_HELP,
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    PasswordResetRequestForm,
)
from trainingmgr.accounts.models import TokenPurpose, User
from trainingmgr.accounts.tokens import peek
from trainingmgr.audit import services as audit
from trainingmgr.core.permissions import public, signed_in
from trainingmgr.core.timing import at_least
from trainingmgr.core.urls import safe_next
from trainingmgr.core.views import outcome, run_action, submit
from trainingmgr.extensions import db, limiter

bp = Blueprint("accounts", __name__)

# Sign-in attempts: per address of the client, and per e-mail address typed (whether or not
# an account has it, so the answer does not tell). Only POSTs count.
SIGN_IN_LIMIT_PER_IP = "10/minute"
SIGN_IN_LIMIT_PER_EMAIL = "5/minute"
RESET_LIMIT_PER_IP = "5/minute"
RESET_LIMIT_PER_EMAIL = "3/hour"
LINK_LIMIT_PER_IP = "10/minute"
# Password reset requests answer in at least this time, whether or not the account exists.
MIN_RESPONSE_SECONDS = 0.25


def _submitted_email() -> str:
    """The rate-limit key of the e-mail address in the posted form."""
    return "email:" + services.normalise_email(request.form.get("email", ""))[:254]


def _sign_in_link_url() -> str:
    """Where to ask for an e-mailed sign-in link (the portal's page), with the page the user
    was going to (it survives the link sign-in)."""
    target = safe_next(request.args.get("next"))
    return url_for("portal.request_link", next=target)


def _private(response: Response) -> Response:
    """Pages reached by a secret link: not cached, and the link not sent on as a referrer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(SIGN_IN_LIMIT_PER_EMAIL, methods=["POST"], key_func=_submitted_email)
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        db.session.commit()
        if user is None:
            flash(_("The e-mail or password is not correct."), "danger")
        else:
            login_user(user, remember=form.remember.data)
            if sessions.complete():  # else the second factor's page comes first
                flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("accounts/login.html", form=form, sign_in_link_url=_sign_in_link_url())


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    audit.record("auth.sign_out", actor=current_user, obj=current_user._get_current_object())
    sessions.end(session.get(sessions.SESSION_KEY))  # a copy of this cookie stops working too
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@signed_in
def logout_everywhere() -> Response:
    """End every sign-in of this account, on every device (a lost phone, a shared computer)."""
    ended = services.sign_out_everywhere(current_user._get_current_object(), ip=request.remote_addr)
    db.session.commit()
    logout_user()
    flash(
        ngettext(
            "You have signed out on %(num)d device, this one included.",
            "You have signed out on %(num)d devices, this one included.",
            max(ended, 1),
        ),
        "info",
    )
    return redirect(url_for("accounts.login"))


# --------------------------------------------------------------------------- invitations


def _link_problem(message: str, title: str) -> Response:
    response = current_app.make_response(
        (render_template("accounts/link_problem.html", message=message, title=title), 410)
    )
    return _private(response)


def _new_password_page(
    action: Callable[[str], User],
    welcome: Callable[[User], str],
    page: Callable[[NewPasswordForm], str],
) -> Response:
    """A one-time link's page choosing a password: on a valid submission set it by
    ``action`` (the link's service), sign in and go home; otherwise (or when refused, the
    reason next to the field and nothing written) ``page(form)``, kept out of caches."""
    form = NewPasswordForm()
    if form.validate_on_submit():
        done = run_action(lambda: action(form.password.data), form=form)
        if done:
            user = done.value
            login_user(user)
            flash(welcome(user), "success")
            return redirect(url_for("home.index"))
    return _private(current_app.make_response(page(form)))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT_PER_IP, methods=["POST"])
@public
def accept_invitation(token: str) -> Response:
    found = outcome(lambda: services.invitation_for(token))
    if not found:
        return _link_problem(found.error.message, _("This invitation cannot be used"))
    invitation = found.value
    return _new_password_page(
        lambda password: services.accept_invitation(token, password, ip=request.remote_addr),
        lambda user: _("Your password is set. Welcome, %(name)s.", name=user.name),
        lambda form: render_template(
            "accounts/invitation.html",
            form=form,
            invited=invitation.user,
            inviter=services.inviter_of(invitation),
            expires_at=invitation.expires_at,
            timezone=services.display_timezone(invitation.user),
            password_help=NEW_PASSWORD_HELP,
        ),
    )


# --------------------------------------------------------------------------- passwords


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(RESET_LIMIT_PER_EMAIL, methods=["POST"], key_func=_submitted_email)
@public
def password_reset_request() -> str | Response:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        with at_least(MIN_RESPONSE_SECONDS):  # the same time for known and unknown addresses
            services.request_password_reset(form.email.data, ip=request.remote_addr)
            db.session.commit()
        flash(
            _(
                "If an account uses %(email)s, a link to choose a new password is on its way "
                "there. The link works for %(minutes)s minutes.",
                email=services.normalise_email(form.email.data),
                minutes=services.PASSWORD_RESET_MINUTES,
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/password_reset_request.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT_PER_IP, methods=["POST"])
@public
def password_reset(token: str) -> Response:
    found = outcome(lambda: peek(token, TokenPurpose.PASSWORD_RESET))
    if not found:
        return _link_problem(found.error.message, _("This link cannot be used"))
    row = found.value
    return _new_password_page(
        lambda password: services.reset_password(token, password, ip=request.remote_addr),
        lambda _user: _("Your new password is set. You are signed in."),
        lambda form: render_template(
            "accounts/password_reset.html",
            form=form,
            user=row.user,
            password_help=NEW_PASSWORD_HELP,
        ),
    )


@bp.route("/password/change", methods=["GET", "POST"])
@signed_in
def change_password() -> str | Response:
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if submit(
        form,
        lambda: services.change_password(
            user, form.current_password.data, form.password.data, ip=request.remote_addr
        ),
    ):
        # The new auth version ended every other session; this one goes on.
        login_user(user, fresh=True)
        flash(_("Your password was changed. Other devices have been signed out."), "success")
        return redirect(url_for("home.index"))
    return render_template(
        "accounts/change_password.html",
        form=form,
        has_password=bool(user.password_hash),
        password_help=NEW_PASSWORD_HELP,
    )


from trainingmgr.accounts import twofactor_views as _twofactor_views  # noqa: E402,F401  (routes of this blueprint)
