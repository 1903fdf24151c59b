"""Issuing certificates: ``issue`` (one enrolment) and ``issue_all_eligible`` (a cohort),
the checks before (status, end of the cohort, printable names), serials, the PDF rendered and
frozen at issue, the audit events and the holder's e-mail. Services do not commit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.bulk import attended_modules
from trainingmgr.attendance.summary import Summary
from trainingmgr.audit import services as audit
from trainingmgr.certificates import codes, pdf, signing
from trainingmgr.certificates.eligibility import Eligibility, eligibility
from trainingmgr.certificates.models import (
    Certificate,
    CertificateSerialCounter,
    CertificateStatus,
)
from trainingmgr.certificates.snapshot import build_snapshot, letterhead, load_assets
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.core import urls
from trainingmgr.core.errors import DomainError
from trainingmgr.core.timefmt import fmt_date
from trainingmgr.core.types import utcnow
from trainingmgr.enrolments.services import STATUS_ACTION
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.organisation.models import OrganisationSettings
from trainingmgr.programmes.models import Programme


@dataclass
class IssueResult:
    """What ``issue_all_eligible`` did, enrolment by enrolment."""

    issued: list[Certificate] = field(default_factory=list)
    already: list[Certificate] = field(default_factory=list)
    # (enrolment, why it is not eligible): issuing those needs a reason, one by one.
    not_eligible: list[tuple[Enrolment, Eligibility]] = field(default_factory=list)
    # Eligible, but their certificate was revoked: a revocation sticks, so "issue all" leaves
    # them alone; a coordinator issues again one by one if it was a mistake.
    revoked: list[Enrolment] = field(default_factory=list)
    # Eligible, but their name has letters no certificate font has: left out (the others are
    # issued); the letters are named so the name or the fonts can be corrected.
    unprintable: list[tuple[Enrolment, list[str]]] = field(default_factory=list)
    # Eligible and printable, but not issued by this call (``limit``, ``defer_above``).
    waiting: int = 0


# --- Issuing ------------------------------------------------------------------------------

_NOT_ISSUABLE = {
    "applied": lambda: _("An applicant who is not enrolled cannot get a certificate."),
    "waitlisted": lambda: _("A waitlisted person cannot get a certificate."),
    "withdrawn": lambda: _("A withdrawn participant cannot get a certificate."),
}


def _check_issuable(enrolment: Enrolment) -> None:
    if not enrolment.active:
        message = _NOT_ISSUABLE.get(enrolment.status.value)
        raise DomainError(
            message() if message else _("This enrolment cannot get a certificate."), "status"
        )


def _valid_certificates(enrolment_ids: list[int]) -> dict[int, Certificate]:
    """{enrolment id: its valid certificate} (one query)."""
    if not enrolment_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.enrolment_id.in_(enrolment_ids),
            Certificate.status == CertificateStatus.VALID,
        )
        .order_by(Certificate.id)
    )
    return {c.enrolment_id: c for c in rows}


def _revoked_enrolment_ids(enrolment_ids: list[int]) -> set[int]:
    """Enrolments with a revoked certificate (one query)."""
    if not enrolment_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Certificate.enrolment_id).where(
                Certificate.enrolment_id.in_(enrolment_ids),
                Certificate.status == CertificateStatus.REVOKED,
            )
        )
    )


def lock_enrolments(where: Any) -> list[Enrolment]:
    """Enrolments locked until the transaction ends, so two issuers of the same person wait
    for each other instead of both issuing."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(where)
            .order_by(Enrolment.id)
            .with_for_update(of=Enrolment)
            .options(selectinload(Enrolment.person))
            .execution_options(populate_existing=True)
        )
    )


def _issued_on(cohort: Cohort) -> date:
    """Today in the cohort's time zone (the date printed and the serial's year)."""
    return utcnow().astimezone(cohort.tz).date()


def before_end(cohort: Cohort) -> str | None:
    """When the cohort has not ended yet (today in its time zone is before its end date),
    what issuing now means, in words with the dates; None once it has ended."""
    today = _issued_on(cohort)
    if today >= cohort.end_date:
        return None
    return _(
        "%(cohort)s runs from %(start)s to %(end)s and today is %(today)s: a certificate "
        "issued now says its holder completed a cohort that has not ended yet.",
        cohort=cohort.name,
        start=fmt_date(cohort.start_date),
        end=fmt_date(cohort.end_date),
        today=fmt_date(today),
    )


def _check_ended(cohort: Cohort, confirmed: bool) -> None:
    """Refuse to issue before the cohort's end unless the issuer confirmed it, knowing the
    dates (nothing written)."""
    message = before_end(cohort)
    if message and not confirmed:
        raise DomainError(
            _("%(message)s Confirm that you issue before the end.", message=message),
            "confirm_before_end",
        )


def _allocate_serials(programme: Programme, year: int, count: int) -> list[str]:
    """``count`` consecutive serials; the counter row stays locked until the transaction ends."""
    if count <= 0:
        return []
    first = codes.next_serial_number(programme.id, year)
    if count > 1:
        counter = db.session.get(CertificateSerialCounter, (programme.id, year))
        assert counter is not None  # locked and loaded by next_serial_number
        counter.last_number += count - 1
    return [codes.format_serial(programme.code, year, first + i) for i in range(count)]


def _certificate_rows(
    items: list[tuple[Enrolment, Summary, set[int], str | None]],
    cohort: Cohort,
    serials: list[str],
    issued_on: date,
    *,
    actor: User | None,
) -> list[dict[str, Any]]:
    """The rows to insert: each with its snapshot (the letterhead read once for the batch)."""
    head = letterhead(cohort.programme)
    now = utcnow()
    return [
        {
            "serial": serial,
            "verification_code": codes.new_verification_code(),
            "enrolment_id": enrolment.id,
            "cohort_id": cohort.id,
            "person_id": enrolment.person_id,
            "snapshot": build_snapshot(
                enrolment,
                head=head,
                summary=summary,
                attended_module_ids=module_ids,
                serial=serial,
                issued_on=issued_on,
            ),
            "status": CertificateStatus.VALID,
            "issued_at": now,
            "issued_by_id": getattr(actor, "id", None),
            "override_reason": reason,
        }
        for (enrolment, summary, module_ids, reason), serial in zip(items, serials, strict=True)
    ]


def _audit_issued(
    items: list[tuple[Enrolment, Summary, set[int], str | None]],
    certificates: list[Certificate],
    programme_id: int,
    *,
    actor: User | None,
) -> None:
    """One ``certificate.issue`` event per certificate, in one INSERT."""
    audit.record_many(
        [
            {
                "action": "certificate.issue",
                "actor": actor,
                "obj": certificate,
                "programme_id": programme_id,
                "changes": {
                    "serial": certificate.serial,
                    "enrolment_id": enrolment.id,
                    **({"override_reason": reason} if reason else {}),
                },
                "summary": f"{certificate.serial} {enrolment.person.full_name}",
            }
            for certificate, (enrolment, _s, _m, reason) in zip(certificates, items, strict=True)
        ]
    )


def new_certificates(
    items: list[tuple[Enrolment, Summary, set[int], str | None]],
    cohort: Cohort,
    *,
    actor: User | None,
    printable_checked: bool = False,
) -> list[Certificate]:
    """Certificates for ``items`` (enrolment, summary, attended module ids, override reason),
    added and flushed, each with its ``certificate.issue`` audit event (``printable_checked``:
    the caller already left out the names no font can print). ``actor`` None: the system
    issues them (the ``flask certificates issue`` command, a worker's run without a
    requester)."""
    if not items:
        return []
    programme = cohort.programme
    if not printable_checked:
        use_fallback_font()
        _check_printable([enrolment.person for enrolment, *_rest in items], actor=actor)
    issued_on = _issued_on(cohort)
    serials = _allocate_serials(programme, issued_on.year, len(items))
    rows = _certificate_rows(items, cohort, serials, issued_on, actor=actor)
    _freeze(rows)
    # One INSERT for the batch (the ORM would insert row by row on SQLite), then the rows
    # read back as objects (without their PDF bytes, which stay deferred).
    db.session.execute(sa.insert(Certificate), rows)
    by_serial = {
        c.serial: c
        for c in db.session.scalars(sa.select(Certificate).where(Certificate.serial.in_(serials)))
    }
    certificates = [by_serial[serial] for serial in serials]
    _audit_issued(items, certificates, programme.id, actor=actor)
    _mark_completed(
        [enrolment for enrolment, *_rest in items], certificates, programme, actor=actor
    )
    db.session.flush()
    # Queued in this transaction: sent by the worker after the commit, never holding it up
    # (a cohort's messages are also written by the worker).
    if len(certificates) == 1:
        notify.certificates_issued(certificates, cohort)
    else:
        notify.defer_certificates_issued(certificates, cohort)
    return certificates


def use_fallback_font() -> None:
    """Make the renderer use the organisation's uploaded fallback font (or none), as the
    settings say now: one small query, plus one to load the font the first time this
    process sees it."""
    settings = db.session.execute(
        sa.select(OrganisationSettings.fallback_font_sha256).where(OrganisationSettings.id == 1)
    ).scalar()
    if settings == pdf.fallback_font():
        return
    data = None
    if settings:
        data = db.session.execute(
            sa.select(OrganisationSettings.fallback_font).where(OrganisationSettings.id == 1)
        ).scalar()
    pdf.set_fallback_font(settings if data else None, bytes(data) if data else None)


def unprintable_letters(person: Any) -> list[str]:
    """The letters of the person's names (as printed) that no certificate font has, each
    once; [] when a certificate can print them."""
    missing = [
        char
        for name in (person.full_name, person.name_latin or "")
        for char in pdf.missing_glyphs(name)
    ]
    return list(dict.fromkeys(missing))


def font_advice(*, actor: User | None) -> str:
    """What to do about letters no certificate font has, for ``actor``: administrators
    upload a font, others (and the system, None) ask one to."""
    if actor is not None and getattr(actor, "has_role", None) and actor.has_role(Role.ADMIN):
        return _(
            "Correct the name in the person's record, or upload a font that has these letters "
            "in Organisation settings, under “Certificate font”."
        )
    return _(
        "Correct the name in the person's record, or ask an administrator to upload a font "
        "that has these letters (Organisation settings, “Certificate font”)."
    )


def _check_printable(people: list[Any], *, actor: User | None) -> None:
    """Refuse (nothing written) names with letters no certificate font has: a certificate
    never shows a name with boxes instead of letters."""
    for person in people:
        missing = unprintable_letters(person)
        if missing:
            raise DomainError(
                _(
                    "The name “%(name)s” has letters the certificate fonts cannot print "
                    "(%(letters)s). %(advice)s",
                    name=person.full_name,
                    letters=" ".join(missing),
                    advice=font_advice(actor=actor),
                ),
                "name",
            )


def _mark_completed(
    enrolments: list[Enrolment],
    certificates: list[Certificate],
    programme: Programme,
    *,
    actor: User | None,
) -> None:
    """Someone who gets a certificate has completed the cohort: an ``enrolled`` or
    ``not_completed`` enrolment becomes ``completed``, audited as any status change (the
    enrolment's history shows it, with the certificate's serial). A valid certificate next to
    "not completed" would contradict itself; issuing one is the later, deliberate act."""
    events = []
    for enrolment, certificate in zip(enrolments, certificates, strict=True):
        old = enrolment.status
        if old not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.NOT_COMPLETED):
            continue
        enrolment.status = EnrolmentStatus.COMPLETED
        events.append(
            {
                "action": STATUS_ACTION,
                "actor": actor,
                "obj": enrolment,
                "programme_id": programme.id,
                "changes": {"status": [old.value, "completed"], "certificate": certificate.serial},
                "summary": f"{enrolment.person.full_name}: {old.value} -> completed",
            }
        )
    audit.record_many(events)


def programme_module_ids(programme: Programme) -> list[int]:
    return [m.id for m in programme.modules]


def issue(
    enrolment: Enrolment,
    *,
    actor: User,
    override_reason: str | None = None,
    confirm_before_end: bool = False,
) -> Certificate:
    """The enrolment's certificate: the valid one if it has one, else a new one.

    Someone the completion rule does not find eligible needs a written ``override_reason``
    (kept on the certificate and in the audit event). Before the cohort's end date a new
    certificate needs ``confirm_before_end``. Does not commit.
    """
    lock_enrolments(Enrolment.id == enrolment.id)  # and reads its status again
    _check_issuable(enrolment)
    existing = _valid_certificates([enrolment.id]).get(enrolment.id)
    if existing is not None:
        return existing
    cohort = enrolment.cohort
    result = eligibility(cohort.id, [enrolment.id])[enrolment.id]
    reason = (override_reason or "").strip() or None
    if not result.eligible and reason is None:
        raise DomainError(
            _(
                "Not eligible (%(reasons)s): write why the certificate is issued anyway.",
                reasons="; ".join(result.reasons),
            ),
            "override_reason",
        )
    if result.eligible:
        reason = None
    _check_ended(cohort, confirm_before_end)
    attended = attended_modules(cohort.id, [enrolment.id], programme_module_ids(cohort.programme))
    return new_certificates(
        [(enrolment, result.summary, attended[enrolment.id], reason)], cohort, actor=actor
    )[0]


def _left_out(
    enrolments: Sequence[Enrolment],
    existing: dict[int, Certificate],
    revoked: set[int],
    results: dict[int, Eligibility],
) -> IssueResult:
    """What "issue to all" leaves alone: those who have a certificate, those not eligible and
    those whose certificate was revoked."""
    return IssueResult(
        already=[existing[e.id] for e in enrolments if e.id in existing],
        not_eligible=[
            (e, results[e.id])
            for e in enrolments
            if e.id not in existing and not results[e.id].eligible
        ],
        revoked=[e for e in enrolments if e.id in revoked and results[e.id].eligible],
    )


def issue_all_eligible(
    cohort: Cohort,
    *,
    actor: User | None,
    confirm_before_end: bool = False,
    limit: int | None = None,
    defer_above: int | None = None,
) -> IssueResult:
    """Certificates for every eligible active enrolment of ``cohort`` that has none yet
    (before the cohort's end date, only with ``confirm_before_end``).

    Enrolments whose certificate was revoked are left out (``IssueResult.revoked``): a
    revocation is not undone by a bulk action. So are names a certificate cannot print
    (``IssueResult.unprintable``); everyone else is issued: at most ``limit`` of them in this
    call (in the roster's order), none when there are more than ``defer_above``
    (``IssueResult.waiting`` says how many are left to issue: ``runs`` hands them to the
    worker).

    ``actor`` None: the system issues them (the ``flask certificates issue`` command, a
    worker's run without a requester). A bounded number of queries whatever the cohort size,
    apart from the inserts.
    """
    enrolments = lock_enrolments(sa.and_(Enrolment.cohort_id == cohort.id, Enrolment.active))
    programme = db.session.scalars(
        sa.select(Programme)
        .where(Programme.id == cohort.programme_id)
        .options(selectinload(Programme.partners), selectinload(Programme.modules))
    ).one()
    ids = [e.id for e in enrolments]
    existing = _valid_certificates(ids)
    revoked = _revoked_enrolment_ids([i for i in ids if i not in existing])
    results = eligibility(cohort.id) if ids else {}  # the active ones: those locked
    candidates = [
        e
        for e in enrolments
        if e.id not in existing and e.id not in revoked and results[e.id].eligible
    ]
    use_fallback_font()
    missing = {e.id: unprintable_letters(e.person) for e in candidates}
    to_issue = [e for e in candidates if not missing[e.id]]
    if to_issue:
        _check_ended(cohort, confirm_before_end)
    deferred = defer_above is not None and len(to_issue) > defer_above
    now = [] if deferred else to_issue[:limit]
    attended = attended_modules(cohort.id, [e.id for e in now], programme_module_ids(programme))
    outcome = _left_out(enrolments, existing, revoked, results)
    outcome.unprintable = [(e, missing[e.id]) for e in candidates if missing[e.id]]
    outcome.waiting = len(to_issue) - len(now)
    outcome.issued = new_certificates(
        [(e, results[e.id].summary, attended[e.id], None) for e in now],
        cohort,
        actor=actor,
        printable_checked=True,
    )
    return outcome


def _freeze(rows: Sequence[dict[str, Any]]) -> None:
    """Render each new certificate (a row about to be inserted) once, with the current
    layout and ``BASE_URL``, and keep the bytes, their SHA-256 and the address printed: from
    now on that is the certificate. At most one query (the images this process has not
    prepared yet)."""
    keys = {key for row in rows for key in pdf.image_keys(row["snapshot"] or {})}
    images = load_assets(sorted(key for key in keys if not pdf.has_image(key)))
    signer = signing.current_signer()  # PAdES signature at issue (issue 21); None: unsigned
    for row in rows:
        url = urls.verification_url(row["verification_code"])
        data = pdf.render_certificate(row["snapshot"] or {}, url, images)
        if signer is not None:
            data = signing.sign_pdf(data, signer.key, row["issued_at"])
        row["signing_key_id"] = signer.key_id if signer is not None else None
        row["layout"] = pdf.LAYOUT
        row["pdf_url"] = url
        row["pdf"] = data
        row["pdf_sha256"] = hashlib.sha256(data).hexdigest()
