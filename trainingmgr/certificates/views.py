"""Certificate screens.

- The coordinator's cohort page: the completion rule in words, counts, and every active
  participant with their attendance, eligibility (with the reasons) and certificate.
- Actions (POST, CSRF): issue to all eligible, issue to one (a written reason when the
  rule does not find them eligible), revoke and reissue with a reason. The services apply
  the rules and write the audit events; these views load, check scope, call and commit.
- Downloads: one certificate's PDF (coordinators of its programme and its holder), the
  cohort's valid certificates as a streamed ZIP or as one PDF to print.

Endpoints: ``certificates.cohort``, ``certificates.issue_all``, ``certificates.issue``,
``certificates.revoke``, ``certificates.reissue``, ``certificates.download``,
``certificates.cohort_zip``, ``certificates.cohort_pdf``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response as BaseResponse

from trainingmgr.accounts.models import User
from trainingmgr.certificates import export, services
from trainingmgr.certificates.eligibility import Eligibility, eligibility, fmt_hours
from trainingmgr.certificates.forms import IssueForm, ReasonForm, RevokeForm
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import ACTIVE_ENROLMENT, Cohort, Enrolment
from trainingmgr.core.pagination import Page, page_args
from trainingmgr.core.permissions import coordinator_only, signed_in
from trainingmgr.core.scope import can_manage_programme, require_programme
from trainingmgr.core.views import attempt
from trainingmgr.evaluations.completion import survey_required
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

bp = Blueprint("certificates", __name__)

T = TypeVar("T")


# --------------------------------------------------------------------------- loading


def _actor() -> User:
    return current_user._get_current_object()


def _cohort_or_404(cohort_id: int) -> Cohort:
    """The cohort (with programme and required modules), 404 outside the user's scope."""
    cohort = db.session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.programme), selectinload(Cohort.required_modules))
    )
    if cohort is None:
        abort(404)
    require_programme(cohort.programme_id)
    return cohort


def _enrolment_or_404(cohort: Cohort, enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id != cohort.id:
        abort(404)
    return enrolment


def _certificate_or_404(cohort: Cohort, certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.cohort_id != cohort.id:
        abort(404)
    return certificate


def _valid_certificate(enrolment_id: int) -> Certificate | None:
    return db.session.scalars(
        sa.select(Certificate).where(
            Certificate.enrolment_id == enrolment_id,
            Certificate.status == CertificateStatus.VALID,
        )
    ).first()


def _commit(action: Callable[[], T], form: Any = None) -> T | None:
    """Call a service and commit (``core.views.attempt``): what it returned, or None when it
    was refused (the reason shown, nothing written). Every action here returns an object."""
    done = attempt(action, form)
    return done.value if done else None


def _back(cohort_id: int, enrolment_id: int | None = None) -> BaseResponse:
    """Back to the cohort's page (the page of participants the action was started from)."""
    anchor = f"#enrolment-{enrolment_id}" if enrolment_id else ""
    page = request.args.get("page", type=int)
    page = page if page is not None and page > 1 else None
    return redirect(url_for(".cohort", cohort_id=cohort_id, page=page) + anchor)


# --------------------------------------------------------------------------- the cohort page


@dataclass
class Row:
    """One active participant on the cohort's certificates page."""

    enrolment: Enrolment
    result: Eligibility
    certificate: Certificate | None  # the valid one
    history: list[Certificate] = field(default_factory=list)  # revoked, superseded; newest first

    @property
    def person(self) -> Person:
        return self.enrolment.person

    @property
    def revoked(self) -> bool:
        """Whether one of the participant's certificates was revoked."""
        return any(c.status == CertificateStatus.REVOKED for c in self.history)

    @property
    def name_changed(self) -> bool:
        """The directory's name differs from the one printed on the valid certificate."""
        if self.certificate is None:
            return False
        return export.holder_name(self.certificate) != self.person.full_name


# The certificates page shows this many participants at a time.
CERTIFICATES_PER_PAGE = 100


@dataclass
class Overview:
    """The cohort's certificates page: the counts of the whole cohort, the rows of one page."""

    cohort: Cohort
    rows: list[Row]  # this page's
    page: Page[Row]
    others: list[Certificate]  # certificates of people no longer active in the cohort
    serials: dict[int, str]  # certificate id -> serial (to name a replacement)
    eligible: int = 0
    not_eligible: int = 0
    issued: int = 0
    # Eligible participants without any certificate (what "issue all" would do).
    waiting: int = 0
    # Eligible, with a revoked certificate: "issue all" leaves them alone.
    waiting_revoked: int = 0
    # Waiting participants whose names a certificate cannot print (issuing leaves them out):
    # warned about before anyone presses "issue to all".
    unprintable: list[tuple[Enrolment, list[str]]] = field(default_factory=list)

    @property
    def valid_total(self) -> int:
        return self.issued + sum(1 for c in self.others if c.status == CertificateStatus.VALID)


@dataclass(frozen=True)
class _Name:
    """What ordering and the printable check need of a person, without loading them."""

    enrolment_id: int
    first_name: str
    last_name: str
    name_latin: str | None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


def _overview(cohort: Cohort, page: int = 1, per_page: int | None = None) -> Overview:
    """Everything the page shows, in a bounded number of queries whatever the cohort size.

    Eligibility and certificate statuses are worked out for every active participant (the
    counts, "issue to all"); names are read as plain columns, and people, certificates and
    their snapshots loaded only for the page shown (1,829 rows took 1.7 s).
    """
    per_page = per_page or CERTIFICATES_PER_PAGE
    names = sorted(
        (
            _Name(*row)
            for row in db.session.execute(
                sa.select(Enrolment.id, Person.first_name, Person.last_name, Person.name_latin)
                .join(Enrolment.person)
                .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
            )
        ),
        key=lambda n: (*export.name_order(n), n.enrolment_id),
    )
    ids = [n.enrolment_id for n in names]
    results = eligibility(cohort.id) if ids else {}  # the active ones, counted in SQL
    services.use_fallback_font()  # so the page warns only about names no font can print
    statuses: dict[int, set[CertificateStatus]] = defaultdict(set)
    serials: dict[int, str] = {}
    other_ids: list[int] = []
    active = set(ids)
    for cert_id, enrolment_id, status, serial in db.session.execute(
        sa.select(
            Certificate.id, Certificate.enrolment_id, Certificate.status, Certificate.serial
        ).where(Certificate.cohort_id == cohort.id)
    ):
        serials[cert_id] = serial
        statuses[enrolment_id].add(status)
        if enrolment_id not in active:
            other_ids.append(cert_id)

    overview = Overview(
        cohort=cohort,
        rows=[],
        page=Page([], 1, per_page, 0),
        others=[],
        serials=serials,
    )
    waiting: list[_Name] = []
    for name in names:
        eligible = results[name.enrolment_id].eligible
        own = statuses.get(name.enrolment_id, set())
        has_valid = CertificateStatus.VALID in own
        revoked = CertificateStatus.REVOKED in own
        overview.eligible += eligible
        overview.issued += has_valid
        if eligible and not has_valid:
            if revoked:
                overview.waiting_revoked += 1
            else:
                waiting.append(name)
    overview.not_eligible = len(names) - overview.eligible
    overview.waiting = len(waiting)
    unprintable = {
        n.enrolment_id: letters for n in waiting if (letters := services.unprintable_letters(n))
    }

    pages = max(1, -(-len(names) // per_page))
    page = min(max(page, 1), pages)
    shown_ids = ids[(page - 1) * per_page : page * per_page]
    loaded = _enrolments_with_people([*shown_ids, *unprintable])
    certificates = list(
        db.session.scalars(
            sa.select(Certificate)
            .where(
                Certificate.cohort_id == cohort.id,
                sa.or_(Certificate.enrolment_id.in_(shown_ids), Certificate.id.in_(other_ids)),
            )
            .options(joinedload(Certificate.issued_by), joinedload(Certificate.revoked_by))
            .order_by(Certificate.id.desc())
        )
    )
    by_enrolment: dict[int, list[Certificate]] = defaultdict(list)
    for certificate in certificates:
        by_enrolment[certificate.enrolment_id].append(certificate)
    for enrolment_id in shown_ids:
        own_certificates = by_enrolment.get(enrolment_id, [])
        valid = next((c for c in own_certificates if c.status == CertificateStatus.VALID), None)
        overview.rows.append(
            Row(
                enrolment=loaded[enrolment_id],
                result=results[enrolment_id],
                certificate=valid,
                history=[c for c in own_certificates if c is not valid],
            )
        )
    overview.page = Page(overview.rows, page, per_page, len(names))
    overview.others = [c for c in certificates if c.enrolment_id not in active]
    overview.unprintable = [(loaded[i], letters) for i, letters in unprintable.items()]
    return overview


def _enrolments_with_people(enrolment_ids: list[int]) -> dict[int, Enrolment]:
    if not enrolment_ids:
        return {}
    return {
        e.id: e
        for e in db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.id.in_(sorted(set(enrolment_ids))))
            .options(joinedload(Enrolment.person))
        )
    }


def rule_in_words(cohort: Cohort) -> list[str]:
    """The cohort's completion rule, one condition per item ([] when there is none)."""
    conditions = []
    if cohort.min_attendance_pct:
        conditions.append(
            _(
                "Attendance of at least %(pct)s%% of the sessions held (sessions a participant "
                "was excused from do not count).",
                pct=cohort.min_attendance_pct,
            )
        )
    if cohort.min_hours is not None and cohort.min_hours > 0:
        conditions.append(
            _("At least %(hours)s hours attended.", hours=fmt_hours(cohort.min_hours))
        )
    modules = sorted(cohort.required_modules, key=lambda m: (m.position, m.code))
    if modules:
        conditions.append(
            _(
                "Each of these modules attended at least once: %(modules)s.",
                modules=", ".join(f"{m.code} ({m.title})" for m in modules),
            )
        )
    if survey_required(cohort.id):
        conditions.append(_("The end-of-course survey answered."))
    return conditions


@bp.route("/cohorts/<int:cohort_id>/certificates")
@coordinator_only
def cohort(cohort_id: int) -> str:
    cohort = _cohort_or_404(cohort_id)
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        overview=_overview(cohort, page_args(request.args)[0]),
        rule=rule_in_words(cohort),
        fmt_hours=fmt_hours,
        unprintable_message=unprintable_message,
        before_end=services.before_end(cohort),
        # The public verification page, once that feature is registered.
        verification="verification.certificate" in current_app.view_functions,
    )


# --------------------------------------------------------------------------- actions


@bp.route("/cohorts/<int:cohort_id>/certificates/issue-all", methods=["POST"])
@coordinator_only
def issue_all(cohort_id: int) -> BaseResponse:
    cohort = _cohort_or_404(cohort_id)
    confirmed = request.form.get("confirm_before_end") == "y"
    result = _commit(
        lambda: services.issue_all_eligible(_actor(), cohort, confirm_before_end=confirmed)
    )
    if result is not None:
        flash(
            _(
                "%(issued)d issued, %(already)d already had one, %(not_eligible)d not eligible, "
                "%(revoked)d left out because their certificate was revoked.",
                issued=len(result.issued),
                already=len(result.already),
                not_eligible=len(result.not_eligible),
                revoked=len(result.revoked),
            )
            if result.revoked
            else _(
                "%(issued)d issued, %(already)d already had one, %(not_eligible)d not eligible.",
                issued=len(result.issued),
                already=len(result.already),
                not_eligible=len(result.not_eligible),
            ),
            "success" if result.issued else "info",
        )
        if result.unprintable:
            flash(unprintable_message(result.unprintable), "warning")
    return _back(cohort_id)


def unprintable_message(people: list[tuple[Enrolment, list[str]]], *, before: bool = False) -> str:
    """Who cannot get a certificate because of letters no certificate font has, in words
    (``before``: on the page, before issuing)."""
    names = "; ".join(
        f"{enrolment.person.full_name} ({' '.join(letters)})" for enrolment, letters in people
    )
    advice = services.font_advice(current_user)
    if before:
        return _(
            "“Issue to all eligible” will leave out %(people)s: their names have letters the "
            "certificate fonts cannot print. %(advice)s",
            people=names,
            advice=advice,
        )
    return _(
        "Not issued, because their names have letters the certificate fonts cannot print: "
        "%(people)s. %(advice)s",
        people=names,
        advice=advice,
    )


@bp.route("/cohorts/<int:cohort_id>/certificates/issue/<int:enrolment_id>", methods=["GET", "POST"])
@coordinator_only
def issue(cohort_id: int, enrolment_id: int) -> str | BaseResponse:
    """Issue to one participant. The page shows why someone is not eligible and asks for the
    written reason; an eligible participant is issued straight from the cohort page."""
    cohort = _cohort_or_404(cohort_id)
    enrolment = _enrolment_or_404(cohort, enrolment_id)
    existing = _valid_certificate(enrolment.id)
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
        certificate = _commit(
            lambda: services.issue(
                _actor(), enrolment, override_reason=reason, confirm_before_end=confirmed
            ),
            form,
        )
        if certificate is not None:
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
        active=enrolment.status in ACTIVE_ENROLMENT,
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
        result = _commit(lambda: change(certificate, form), form)
        if result is not None:
            flash(done(certificate, result), "success")
            return _back(cohort_id, certificate.enrolment_id)
    return render_template(
        "certificates/change.html",
        action=action,
        cohort=cohort,
        certificate=certificate,
        person=certificate.enrolment.person,
        form=form,
    )


@bp.route(
    "/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"]
)
@coordinator_only
def revoke(cohort_id: int, certificate_id: int) -> str | BaseResponse:
    return _change_view(
        "revoke",
        cohort_id,
        certificate_id,
        lambda certificate, form: services.revoke(
            _actor(), certificate, form.reason.data, public_note=form.public_note.data
        ),
        lambda certificate, _result: _(
            "Certificate %(serial)s revoked: the verification page now says so.",
            serial=certificate.serial,
        ),
    )


@bp.route(
    "/cohorts/<int:cohort_id>/certificates/<int:certificate_id>/reissue", methods=["GET", "POST"]
)
@coordinator_only
def reissue(cohort_id: int, certificate_id: int) -> str | BaseResponse:
    return _change_view(
        "reissue",
        cohort_id,
        certificate_id,
        lambda certificate, form: services.reissue(_actor(), certificate, reason=form.reason.data),
        lambda certificate, new: _(
            "Certificate %(new)s issued to %(name)s; it replaces %(old)s.",
            new=new.serial,
            name=export.holder_name(new),
            old=certificate.serial,
        ),
    )


# --------------------------------------------------------------------------- downloads


def _may_download(certificate: Certificate) -> bool:
    """Coordinators of the certificate's programme (and admins) may download any of its
    certificates; the holder may download their own while it is valid."""
    if can_manage_programme(certificate.enrolment.cohort.programme_id):
        return True
    person_id = getattr(current_user, "person_id", None)
    return (
        person_id is not None
        and certificate.person_id == person_id
        and certificate.status == CertificateStatus.VALID
    )


@bp.route("/certificates/<int:certificate_id>.pdf")
@signed_in
def download(certificate_id: int) -> Response:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not _may_download(certificate):
        abort(404)
    response = Response(services.render_pdf(certificate), mimetype="application/pdf")
    response.headers["Content-Disposition"] = export.content_disposition(
        f"{certificate.serial}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _bundle_name(cohort: Cohort, ext: str) -> str:
    """``RTCM Baku 2026 certificates.zip`` (the programme's code first unless the name has it)."""
    name = cohort.name
    if not name.casefold().startswith(cohort.programme.code.casefold()):
        name = f"{cohort.programme.code} {name}"
    return f"{name} {_('certificates')}.{ext}"


@bp.route("/cohorts/<int:cohort_id>/certificates.zip")
@coordinator_only
def cohort_zip(cohort_id: int) -> BaseResponse:
    """The cohort's valid certificates as a ZIP, streamed as it is made."""
    cohort = _cohort_or_404(cohort_id)
    certificates = export.cohort_certificates(cohort.id)
    if not certificates:
        flash(_("There is no valid certificate to download yet."), "info")
        return _back(cohort_id)
    response = Response(
        stream_with_context(export.iter_zip(certificates)), mimetype="application/zip"
    )
    response.headers["Content-Disposition"] = export.content_disposition(
        _bundle_name(cohort, "zip")
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/cohorts/<int:cohort_id>/certificates.pdf")
@coordinator_only
def cohort_pdf(cohort_id: int) -> BaseResponse:
    """The cohort's valid certificates in one PDF, one page each, to print."""
    cohort = _cohort_or_404(cohort_id)
    certificates = export.cohort_certificates(cohort.id)
    if not certificates:
        flash(_("There is no valid certificate to print yet."), "info")
        return _back(cohort_id)
    data = export.merged_pdf(certificates, title=f"{cohort.programme.code} {cohort.name}")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = export.content_disposition(
        _bundle_name(cohort, "pdf")
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
