"""What the certificate screens show, and who may download a certificate: the queries and
the object-level check behind ``certificates/views.py`` (views parse, call these, render).

``overview`` reads a cohort's certificates page in a bounded number of queries whatever its
size: eligibility is counted by the database for every active participant (the counts,
"issue to all"), names are read as plain columns, and people, certificates and their
snapshots are loaded only for the page shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.certificates import export, services
from trainingmgr.certificates.eligibility import Eligibility, eligibility, fmt_hours
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.core.pagination import Page
from trainingmgr.core.scope import can_manage_programme
from trainingmgr.evaluations.completion import survey_required
from trainingmgr.extensions import db
from trainingmgr.people.models import Person


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


def _sorted_names(cohort_id: int) -> list[_Name]:
    """The cohort's active participants' names, in ``export.name_order``."""
    rows = db.session.execute(
        sa.select(Enrolment.id, Person.first_name, Person.last_name, Person.name_latin)
        .join(Enrolment.person)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.active)
    )
    return sorted(
        (_Name(*row) for row in rows), key=lambda n: (*export.name_order(n), n.enrolment_id)
    )


@dataclass
class _Statuses:
    """The statuses of each enrolment's certificates, the serials, and the certificates of
    people no longer active (one query)."""

    by_enrolment: dict[int, set[CertificateStatus]]
    serials: dict[int, str]
    other_ids: list[int]


def _statuses(cohort_id: int, active: set[int]) -> _Statuses:
    found = _Statuses(defaultdict(set), {}, [])
    for cert_id, enrolment_id, status, serial in db.session.execute(
        sa.select(
            Certificate.id, Certificate.enrolment_id, Certificate.status, Certificate.serial
        ).where(Certificate.cohort_id == cohort_id)
    ):
        found.serials[cert_id] = serial
        found.by_enrolment[enrolment_id].add(status)
        if enrolment_id not in active:
            found.other_ids.append(cert_id)
    return found


def _count(
    overview: Overview,
    names: list[_Name],
    results: dict[int, Eligibility],
    statuses: _Statuses,
) -> dict[int, list[str]]:
    """Fill in the counts of the whole cohort; the waiting participants whose names a
    certificate cannot print, with the letters."""
    waiting: list[_Name] = []
    for name in names:
        eligible = results[name.enrolment_id].eligible
        own = statuses.by_enrolment.get(name.enrolment_id, set())
        has_valid = CertificateStatus.VALID in own
        overview.eligible += eligible
        overview.issued += has_valid
        if eligible and not has_valid:
            if CertificateStatus.REVOKED in own:
                overview.waiting_revoked += 1
            else:
                waiting.append(name)
    overview.not_eligible = len(names) - overview.eligible
    overview.waiting = len(waiting)
    services.use_fallback_font()  # so the page warns only about names no font can print
    return {
        n.enrolment_id: letters for n in waiting if (letters := services.unprintable_letters(n))
    }


def _page_certificates(cohort_id: int, shown_ids: list[int], other_ids: list[int]) -> Any:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(
                Certificate.cohort_id == cohort_id,
                sa.or_(Certificate.enrolment_id.in_(shown_ids), Certificate.id.in_(other_ids)),
            )
            .options(joinedload(Certificate.issued_by), joinedload(Certificate.revoked_by))
            .order_by(Certificate.id.desc())
        )
    )


def overview(cohort: Cohort, page: int = 1, per_page: int | None = None) -> Overview:
    """Everything the cohort's certificates page shows, in a bounded number of queries
    whatever the cohort size (see the module docstring)."""
    per_page = per_page or CERTIFICATES_PER_PAGE
    names = _sorted_names(cohort.id)
    ids = [n.enrolment_id for n in names]
    results = eligibility(cohort.id) if ids else {}  # the active ones, counted in SQL
    statuses = _statuses(cohort.id, set(ids))
    result = Overview(cohort, [], Page([], 1, per_page, 0), [], statuses.serials)
    unprintable = _count(result, names, results, statuses)

    pages = max(1, -(-len(names) // per_page))
    page = min(max(page, 1), pages)
    shown_ids = ids[(page - 1) * per_page : page * per_page]
    loaded = enrolments_with_people([*shown_ids, *unprintable])
    certificates = _page_certificates(cohort.id, shown_ids, statuses.other_ids)
    by_enrolment: dict[int, list[Certificate]] = defaultdict(list)
    for certificate in certificates:
        by_enrolment[certificate.enrolment_id].append(certificate)
    for enrolment_id in shown_ids:
        own = by_enrolment.get(enrolment_id, [])
        valid = next((c for c in own if c.status == CertificateStatus.VALID), None)
        result.rows.append(
            Row(
                loaded[enrolment_id],
                results[enrolment_id],
                valid,
                [c for c in own if c is not valid],
            )
        )
    result.page = Page(result.rows, page, per_page, len(names))
    active = set(ids)
    result.others = [c for c in certificates if c.enrolment_id not in active]
    result.unprintable = [(loaded[i], letters) for i, letters in unprintable.items()]
    return result


def enrolments_with_people(enrolment_ids: list[int]) -> dict[int, Enrolment]:
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


def enrolment_in(cohort: Cohort, enrolment_id: int) -> Enrolment | None:
    """The cohort's enrolment of that id, or None (an id of another cohort included)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    return enrolment if enrolment is not None and enrolment.cohort_id == cohort.id else None


def certificate_in(cohort: Cohort, certificate_id: int) -> Certificate | None:
    """The cohort's certificate of that id, or None (an id of another cohort included)."""
    certificate = db.session.get(Certificate, certificate_id)
    return certificate if certificate is not None and certificate.cohort_id == cohort.id else None


def valid_certificate(enrolment_id: int) -> Certificate | None:
    """The enrolment's valid certificate, if it has one."""
    return db.session.scalars(
        sa.select(Certificate).where(
            Certificate.enrolment_id == enrolment_id,
            Certificate.status == CertificateStatus.VALID,
        )
    ).first()


def may_download(certificate: Certificate, *, actor: User) -> bool:
    """Coordinators of the certificate's programme (and admins) may download any of its
    certificates; the holder may download their own while it is valid."""
    if can_manage_programme(certificate.enrolment.cohort.programme_id, actor):
        return True
    person_id = getattr(actor, "person_id", None)
    return (
        person_id is not None
        and certificate.person_id == person_id
        and certificate.status == CertificateStatus.VALID
    )


def certificate_for_download(certificate_id: int, *, actor: User) -> Certificate | None:
    """The certificate if ``actor`` may download it (``may_download``), else None: the same
    answer whether it does not exist or belongs to someone else."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not may_download(certificate, actor=actor):
        return None
    return certificate


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
