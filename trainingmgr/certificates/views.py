"""Certificate screens.

- The coordinator's cohort page: the completion rule in words, counts, and every active
  participant with their attendance, eligibility (with the reasons) and certificate.
- Actions (POST, CSRF): issue to all eligible, issue to one (a written reason when the
  rule does not find them eligible), revoke and reissue with a reason. The services apply
  the rules and write the audit events, ``queries`` reads what the pages show and says who
  may download; these views parse, call them (``core.views.attempt``) and render.
- Downloads: one certificate's PDF (coordinators of its programme and its holder), the
  cohort's valid certificates as a streamed ZIP or as one PDF to print.

Endpoints: ``certificates.cohort``, ``certificates.issue_all``, ``certificates.issue``,
``certificates.revoke``, ``certificates.reissue``, ``certificates.download``,
``certificates.cohort_zip``, ``certificates.cohort_pdf``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from trainingmgr.certificates import export, queries, runs, services
from trainingmgr.certificates.eligibility import eligibility, fmt_hours
from trainingmgr.certificates.forms import IssueForm, ReasonForm, RevokeForm
from trainingmgr.certificates.models import Certificate, CertificateRun, CertificateStatus
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.cohorts.services import load_cohort
from trainingmgr.core.pagination import page_args
from trainingmgr.core.permissions import coordinator_only, signed_in
from trainingmgr.core.scope import require_programme
from trainingmgr.core.views import actor, attempt, load_or_404
from trainingmgr.extensions import db

bp = Blueprint("certificates", __name__)


# --------------------------------------------------------------------------- loading


def _cohort_or_404(cohort_id: int) -> Cohort:
    """The cohort (``load_cohort``), 404 outside the user's scope."""
    cohort = load_or_404(load_cohort, cohort_id)
    require_programme(cohort.programme_id)
    return cohort


def _enrolment_or_404(cohort: Cohort, enrolment_id: int) -> Enrolment:
    return load_or_404(queries.enrolment_in, cohort, enrolment_id)


def _certificate_or_404(cohort: Cohort, certificate_id: int) -> Certificate:
    return load_or_404(queries.certificate_in, cohort, certificate_id)


def _back(cohort_id: int, enrolment_id: int | None = None) -> BaseResponse:
    """Back to the cohort's page (the page of participants the action was started from)."""
    anchor = f"#enrolment-{enrolment_id}" if enrolment_id else ""
    page = request.args.get("page", type=int)
    page = page if page is not None and page > 1 else None
    return redirect(url_for(".cohort", cohort_id=cohort_id, page=page) + anchor)


# --------------------------------------------------------------------------- the cohort page


@bp.route("/cohorts/<int:cohort_id>/certificates")
@coordinator_only
def cohort(cohort_id: int) -> str:
    cohort = _cohort_or_404(cohort_id)
    finished = runs.report(cohort.id, actor=actor())
    if finished is not None:  # the summary of a run issued by the worker, shown once
        for message, category in finished.messages:
            flash(message, category)
        db.session.commit()
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        run=runs.active_run(cohort.id),
        overview=queries.overview(cohort, page_args(request.args)[0]),
        rule=queries.rule_in_words(cohort),
        fmt_hours=fmt_hours,
        unprintable_message=lambda people, before=False: runs.unprintable_message(
            people, before=before, actor=current_user
        ),
        before_end=services.before_end(cohort),
    )


# --------------------------------------------------------------------------- actions


@bp.route("/cohorts/<int:cohort_id>/certificates/issue-all", methods=["POST"])
@coordinator_only
def issue_all(cohort_id: int) -> BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    confirmed = request.form.get("confirm_before_end") == "y"
    done = attempt(lambda: runs.issue_all(cohort, confirm_before_end=confirmed, actor=actor()))
    if done is None:
        return _back(cohort_id)
    if isinstance(done.value, CertificateRun):
        flash(
            ngettext(
                "Issuing %(num)d certificate in the background: this page shows when it is done.",
                "Issuing %(num)d certificates in the background: this page shows how many are "
                "done.",
                done.value.total,
            ),
            "info",
        )
        return _back(cohort_id)
    result = done.value
    flash(
        runs.summary(
            len(result.issued), len(result.already), len(result.not_eligible), len(result.revoked)
        ),
        "success" if result.issued else "info",
    )
    if result.unprintable:
        flash(runs.unprintable_message(result.unprintable, actor=current_user), "warning")
    return _back(cohort_id)


@bp.route("/cohorts/<int:cohort_id>/certificates/issue/<int:enrolment_id>", methods=["GET", "POST"])
@coordinator_only
def issue(cohort_id: int, enrolment_id: int) -> str | BaseResponse:
    """Issue to one participant. The page shows why someone is not eligible and asks for the
    written reason; an eligible participant is issued straight from the cohort page."""
    cohort = _cohort_or_404(cohort_id)
    enrolment = _enrolment_or_404(cohort, enrolment_id)
    existing = queries.valid_certificate(enrolment.id)
    if existing is not None:
        flash(
            _(
                "%(name)s already has certificate %(serial)s.",
                name=enrolment.person.full_name,
                serial=existing.serial,
            ),
            "info",
        )
        return _back(cohort_id, enrolment.id)
    form = IssueForm()
    if form.validate_on_submit():
        reason = form.override_reason.data
        confirmed = bool(form.confirm_before_end.data)
        done = attempt(
            lambda: services.issue(
                enrolment, override_reason=reason, confirm_before_end=confirmed, actor=actor()
            ),
            form,
        )
        if done is not None:
            certificate = done.value
            flash(
                _(
                    "Certificate %(serial)s issued to %(name)s.",
                    serial=certificate.serial,
                    name=enrolment.person.full_name,
                ),
                "success",
            )
            return _back(cohort_id, enrolment.id)
    result = eligibility(cohort.id, [enrolment.id])[enrolment.id]
    return render_template(
        "certificates/issue.html",
        cohort=cohort,
        enrolment=enrolment,
        result=result,
        form=form,
        fmt_hours=fmt_hours,
        active=enrolment.active,
        before_end=services.before_end(cohort),
    )


def _changeable_or_back(cohort: Cohort, certificate: Certificate) -> BaseResponse | None:
    if certificate.status == CertificateStatus.VALID:
        return None
    flash(
        _(
            "Certificate %(serial)s is no longer valid: only a valid certificate can be "
            "revoked or reissued.",
            serial=certificate.serial,
        ),
        "warning",
    )
    return _back(cohort.id, certificate.enrolment_id)


def _change_view(
    action: str,
    cohort_id: int,
    certificate_id: int,
    change: Callable[[Certificate, Any], Any],
    done: Callable[[Certificate, Any], str],
) -> str | BaseResponse:
    """The revoke and reissue pages: a valid certificate, a written reason, the service."""
    cohort = _cohort_or_404(cohort_id)
    certificate = _certificate_or_404(cohort, certificate_id)
    refused = _changeable_or_back(cohort, certificate)
    if refused is not None:
        return refused
    form = RevokeForm() if action == "revoke" else ReasonForm()
    if form.validate_on_submit():
        changed = attempt(lambda: change(certificate, form), form)
        if changed is not None:
            flash(done(certificate, changed.value), "success")
            return _back(cohort_id, certificate.enrolment_id)
    return render_template(
        "certificates/change.html",
        action=action,
        cohort=cohort,
        certificate=certificate,
        person=certificate.enrolment.person,
        form=form,
    )


def _revoke(certificate: Certificate, form: RevokeForm) -> Certificate:
    return services.revoke(
        certificate, form.reason.data, public_note=form.public_note.data, actor=actor()
    )


def _revoked(certificate: Certificate, _result: Any) -> str:
    return _(
        "Certificate %(serial)s revoked: the verification page now says so.",
        serial=certificate.serial,
    )


def _reissue(certificate: Certificate, form: ReasonForm) -> Certificate:
    return services.reissue(certificate, reason=form.reason.data, actor=actor())


def _reissued(certificate: Certificate, new: Certificate) -> str:
    return _(
        "Certificate %(new)s issued to %(name)s; it replaces %(old)s.",
        new=new.serial,
        name=export.holder_name(new),
        old=certificate.serial,
    )


@bp.route(
    "/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"]
)
@coordinator_only
def revoke(cohort_id: int, certificate_id: int) -> str | BaseResponse:
    return _change_view("revoke", cohort_id, certificate_id, _revoke, _revoked)


@bp.route(
    "/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/reissue", methods=["GET", "POST"]
)
@coordinator_only
def reissue(cohort_id: int, certificate_id: int) -> str | BaseResponse:
    return _change_view("reissue", cohort_id, certificate_id, _reissue, _reissued)


# --------------------------------------------------------------------------- downloads


def _attachment(body: Any, mimetype: str, filename: str) -> Response:
    """A private download named ``filename`` (never cached)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = export.content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/certificates/<int:certificate_id>.pdf")
@signed_in
def download(certificate_id: int) -> Response:
    certificate = load_or_404(queries.certificate_for_download, certificate_id, actor=actor())
    return _attachment(
        services.render_pdf(certificate), "application/pdf", f"{certificate.serial}.pdf"
    )


def _bundle_name(cohort: Cohort, ext: str) -> str:
    """``RTCM Baku 2026 certificates.zip`` (the programme's code first unless the name has it)."""
    name = cohort.name
    if not name.casefold().startswith(cohort.programme.code.casefold()):
        name = f"{cohort.programme.code} {name}"
    return f"{name} {_('certificates')}.{ext}"


def _bundle(
    cohort_id: int, ext: str, make: Callable[[Cohort, list[Certificate]], Any], nothing: str
) -> BaseResponse:
    """The cohort's valid certificates in one file that ``make`` makes (``ext``: ``zip`` or
    ``pdf``, served as application/zip or application/pdf); back to the cohort's page with
    the message ``nothing`` when there are none."""
    cohort = _cohort_or_404(cohort_id)
    certificates = export.cohort_certificates(cohort.id)
    if not certificates:
        flash(nothing, "info")
        return _back(cohort_id)
    return _attachment(make(cohort, certificates), f"application/{ext}", _bundle_name(cohort, ext))


def _zipped(_cohort: Cohort, certificates: list[Certificate]) -> Iterator[bytes]:
    return stream_with_context(export.iter_zip(certificates))


def _merged(cohort: Cohort, certificates: list[Certificate]) -> bytes:
    return export.merged_pdf(certificates, title=f"{cohort.programme.code} {cohort.name}")


@bp.route("/cohorts/<int:cohort_id>/certificates.zip")
@coordinator_only
def cohort_zip(cohort_id: int) -> BaseResponse:
    """The cohort's valid certificates as a ZIP, streamed as it is made."""
    return _bundle(cohort_id, "zip", _zipped, _("There is no valid certificate to download yet."))


@bp.route("/cohorts/<int:cohort_id>/certificates.pdf")
@coordinator_only
def cohort_pdf(cohort_id: int) -> BaseResponse:
    """The cohort's valid certificates in one PDF, one page each, to print."""
    return _bundle(cohort_id, "pdf", _merged, _("There is no valid certificate to print yet."))
