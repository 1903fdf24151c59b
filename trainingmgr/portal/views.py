"""The participant portal's pages: sign-in by e-mailed link, the profile and the calendar feed.

The participant's home page itself (``/me``) is ``home.participant``.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from trainingmgr.accounts.models import User
from trainingmgr.accounts.services import normalise_email
from trainingmgr.cohorts.services import cohort_or_404
from trainingmgr.core.permissions import coordinator_only, public, signed_in
from trainingmgr.core.timefmt import current_name
from trainingmgr.core.timing import at_least
from trainingmgr.core.urls import safe_next
from trainingmgr.core.views import attempt, load_or_404, outcome, run_action
from trainingmgr.extensions import db, limiter
from trainingmgr.portal import access, services
from trainingmgr.portal.forms import ConfirmForm, ProfileForm, RequestLinkForm

bp = Blueprint("portal", __name__)

# Asking for a sign-in link: per submitted address and per IP address (POSTs only). Both
# count whether or not the address has an account, so the limits reveal nothing either.
LINKS_PER_ADDRESS = "5/hour"
LINKS_PER_IP = "20/hour"
# Every answer to a link request takes at least this long, whether a link was sent or not,
# so the time taken does not tell whether an address has an account.
MIN_RESPONSE_SECONDS = 0.25


def _submitted_address() -> str:
    """The rate-limit key of the address typed in the form (normalised, as accounts are)."""
    return "sign-in-link:" + normalise_email(request.form.get("email", ""))[:254]


def _private(response: BaseResponse) -> BaseResponse:
    """Pages whose address holds a secret: not cached, not sent on as a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.errorhandler(TooManyRequests)
def too_many(_exc: TooManyRequests) -> tuple[str, int]:
    """Over a limit: the same page whether or not the address has an account."""
    if request.endpoint == "portal.request_link":
        return render_template("portal/link_limited.html"), 429
    return render_template(
        "errors/error.html",
        code=429,
        title=_("Too many requests"),
        message=_("Please wait a moment and try again."),
    ), 429


# --------------------------------------------------------------------------- sign-in links


@bp.route("/login/link", methods=["GET", "POST"])
@limiter.limit(LINKS_PER_IP, methods=["POST"])
@limiter.limit(LINKS_PER_ADDRESS, methods=["POST"], key_func=_submitted_address)
@public
def request_link() -> str:
    form = RequestLinkForm()
    # The page the user was going to: the link e-mailed leads there once used.
    next_path = safe_next(request.values.get("next"))
    if form.validate_on_submit():
        with at_least(MIN_RESPONSE_SECONDS):
            services.request_sign_in_link(
                form.email.data, next_path=next_path, ip=request.remote_addr
            )
            db.session.commit()
        return render_template(
            "portal/link_sent.html",
            email=normalise_email(form.email.data),
            minutes=current_app.config["SIGN_IN_LINK_MINUTES"],
        )
    return render_template("portal/request_link.html", form=form, next_path=next_path)


def _link_refused(message: str) -> BaseResponse:
    return _private(
        current_app.make_response(
            render_template(
                "portal/link_invalid.html",
                message=message,
                next_path=safe_next(request.args.get("next")),
            )
        )
    )


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limiter.limit("30/minute")
@public
def use_link(token: str) -> BaseResponse:
    """GET only shows a "Sign in" button (mail scanners that open links do not use them up);
    the POST uses the link and signs in."""
    form = ConfirmForm()
    if request.method == "POST":
        done = run_action(
            lambda: services.sign_in_with_link(token, ip=request.remote_addr), show=False
        )
        if not done:
            return _link_refused(done.error.message)
        user = done.value
        login_user(user)
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        target = safe_next(request.args.get("next")) or url_for("home.index")
        return _private(redirect(target))
    checked = outcome(lambda: services.check_sign_in_link(token))
    if not checked:
        return _link_refused(checked.error.message)
    holder = checked.value
    account = holder if isinstance(holder, User) else None
    return _private(
        current_app.make_response(
            render_template(
                "portal/use_link.html",
                form=form,
                email=holder.email,
                other_account=current_user.is_authenticated
                and (account is None or current_user.id != account.id),
                first_sign_in=account is None,
            )
        )
    )


# --------------------------------------------------------------------------- access links

# Access links sent by one coordinator (each send may reach a whole cohort).
ACCESS_LINKS_PER_USER = "10/hour"


def _sender_key() -> str:
    return f"access-links:{getattr(current_user, 'id', '')}"


def _ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return ids


@bp.route("/cohorts/<int:cohort_id>/access", methods=["GET", "POST"])
@limiter.limit(ACCESS_LINKS_PER_USER, methods=["POST"], key_func=_sender_key)
@coordinator_only
def cohort_access(cohort_id: int) -> str | BaseResponse:
    """Who of the cohort can get in; send access links to those who never signed in, or to
    those selected (with a preview of the e-mail in the cohort's language)."""
    cohort = cohort_or_404(cohort_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        selected = request.form.get("to") == "selected"
        people = _ids(request.form.getlist("person")) if selected else None
        done = attempt(
            lambda: access.send_access_links(
                cohort,
                actor=current_user._get_current_object(),
                person_ids=people,
                ip=request.remote_addr,
            )
        )
        if done is not None:
            flash(
                ngettext(
                    "An access link was e-mailed to %(num)d person.",
                    "Access links were e-mailed to %(num)d people.",
                    done.value,
                ),
                "success",
            )
            return redirect(url_for(".cohort_access", cohort_id=cohort.id))
    state = access.cohort_access(cohort)
    waiting = state.never_signed_in
    return render_template(
        "portal/cohort_access.html",
        cohort=cohort,
        form=form,
        state=state,
        waiting=waiting,
        preview=access.preview(cohort, waiting[0] if waiting else None),
        days=services.ACCESS_LINK_DAYS,
    )


# --------------------------------------------------------------------------- profile


@bp.route("/me/profile", methods=["GET", "POST"])
@signed_in
def profile() -> str | BaseResponse:
    user = current_user._get_current_object()
    form = ProfileForm(
        data={"timezone": current_name(user.timezone or ""), "locale": user.locale or ""},
        zones=services.zone_groups(),
        languages=services.LANGUAGE_NAMES,
    )
    if form.validate_on_submit() and attempt(
        lambda: services.update_profile(user, timezone=form.timezone.data, locale=form.locale.data),
        form,
    ):
        flash(_("Your settings were saved."), "success")
        return redirect(url_for(".profile"))
    return render_template(
        "portal/profile.html",
        form=form,
        action_form=ConfirmForm(),
        feed_url=services.feed_url(user),
        password_url=url_for("accounts.change_password"),
    )


@bp.route("/me/profile/calendar", methods=["POST"])
@signed_in
def reset_calendar() -> BaseResponse:
    user = current_user._get_current_object()
    if user.calendar_token:
        message = _(
            "Your calendar has a new address: the old one no longer works. "
            "Add the new one to your calendar app."
        )
    else:
        message = _("Your calendar address is ready: add it to your calendar app.")
    run_action(lambda: services.reset_calendar_token(user), message)
    return redirect(url_for(".profile") + "#calendar")


@bp.route("/calendar/<token>.ics")
@limiter.limit("60/minute")
@public
def feed(token: str) -> Response:
    """The private calendar feed: anyone with the address (a calendar app) may read it."""
    file = load_or_404(services.calendar_feed, token)
    response = Response(file.body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{file.filename}"'
    _private(response)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
