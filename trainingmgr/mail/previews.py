"""Previews of every e-mail in every language, for coordinators checking what people receive.

Each preview uses real records when the viewer may see some (the latest enrolment, session
and certificate of their programmes), otherwise sample records built in memory and never
saved. Links in previews are samples: a sign-in link shown here signs nobody in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateNotFound
from sqlalchemy.orm import joinedload

from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.calendar import cohort_calendar
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Session,
    SessionStatus,
)
from trainingmgr.core.scope import in_programmes, managed_programme_ids
from trainingmgr.core.urls import base_url
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.mail.recipients import scheduled_sessions
from trainingmgr.mail.services import Rendered, render
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Programme, ProgrammeKind

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User


@dataclass(frozen=True)
class Preview:
    key: str
    kind: str
    label: Any
    change: str | None = None


PREVIEWS: dict[str, Preview] = {
    p.key: p
    for p in (
        Preview("enrolment_confirmation", "enrolment_confirmation", _l("Enrolment confirmation")),
        Preview("waitlist_place", "waitlist_place", _l("Place on the waitlist")),
        Preview("session_moved", "session_changed", _l("Session moved"), notify.MOVED),
        Preview("session_cancelled", "session_changed", _l("Session cancelled"), notify.CANCELLED),
        Preview("session_restored", "session_changed", _l("Session restored"), notify.RESTORED),
        Preview("certificate_issued", "certificate_issued", _l("Certificate issued")),
        Preview("sign_in_link", "sign_in_link", _l("Sign-in link")),
        Preview("invitation", "invitation", _l("Invitation")),
        Preview("password_reset", "password_reset", _l("Password reset link")),
    )
}


@dataclass(frozen=True)
class PreviewResult:
    preview: Preview
    locale: str
    rendered: Rendered | None  # None: the templates of this kind are not written yet
    real_data: bool  # records of the viewer's programmes (else built samples)


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


# --------------------------------------------------------------------------- samples


@dataclass
class _Sample:
    """Records built in memory (never added to the database session)."""

    programme: Programme
    cohort: Cohort
    person: Person
    enrolment: Enrolment
    sessions: list[Session]
    certificate: Certificate


def _sample(locale: str) -> _Sample:
    programme = Programme(
        code="MMDP",
        title="Migration Management Diploma Programme",
        kind=ProgrammeKind.WORKSHOP,
    )
    cohort = Cohort(
        name="Baku 2026",
        start_date=date(2026, 11, 23),
        end_date=date(2026, 11, 27),
        timezone="Asia/Baku",
        venue="ADA University",
        city="Baku",
        language=locale,
    )
    cohort.programme = programme
    person = Person(first_name="Ləman", last_name="Əliyeva", email="leman.aliyeva@example.org")
    enrolment = Enrolment(status=EnrolmentStatus.ENROLLED)
    enrolment.cohort = cohort
    enrolment.person = person
    sessions = []
    for day, title in enumerate(("Opening and migration data", "Border management")):
        start = datetime(2026, 11, 23 + day, 5, 0, tzinfo=UTC)
        session = Session(
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=3, minutes=30),
            status=SessionStatus.SCHEDULED,
            location="",
        )
        session.cohort = cohort
        sessions.append(session)
    certificate = Certificate(
        id=42,
        serial="MMDP-2026-0042",
        verification_code="7KQ2M9XD",
        snapshot={},
        status=CertificateStatus.VALID,
    )
    return _Sample(programme, cohort, person, enrolment, sessions, certificate)


# --------------------------------------------------------------------------- real records


def _real_enrolment(ids: set[int] | None) -> Enrolment | None:
    return db.session.scalar(
        sa.select(Enrolment)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(Person, Person.id == Enrolment.person_id)
        .where(
            in_programmes(Cohort.programme_id, ids),
            Enrolment.active,
            Person.email.is_not(None),
        )
        .options(
            joinedload(Enrolment.person),
            joinedload(Enrolment.cohort).joinedload(Cohort.programme),
        )
        .order_by(Cohort.start_date.desc(), Enrolment.id)
        .limit(1)
    )


def _real_certificate(ids: set[int] | None) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate)
        .join(Cohort, Cohort.id == Certificate.cohort_id)
        .where(
            in_programmes(Cohort.programme_id, ids), Certificate.status == CertificateStatus.VALID
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------- contexts


def _enrolment_context(locale: str, ids: set[int] | None) -> tuple[dict[str, Any], bool]:
    enrolment = _real_enrolment(ids)
    if enrolment is not None:
        sessions = scheduled_sessions(enrolment.cohort_id)
        filename = cohort_calendar(enrolment.cohort).filename
        context = notify.enrolment_context(enrolment, sessions, locale, calendar_filename=filename)
        return context, True
    s = _sample(locale)
    context = notify.enrolment_context(
        s.enrolment, s.sessions, locale, calendar_filename="mmdp-baku.ics"
    )
    return context, False


def _session_context(locale: str, ids: set[int] | None, change: str) -> tuple[dict[str, Any], bool]:
    enrolment = _real_enrolment(ids)
    session = None
    if enrolment is not None:
        session = db.session.scalar(
            sa.select(Session)
            .where(
                Session.cohort_id == enrolment.cohort_id,
                Session.scheduled,
            )
            .order_by(Session.starts_at, Session.id)
            .limit(1)
        )
    if enrolment is not None and session is not None:
        person = enrolment.person
        filename = cohort_calendar(enrolment.cohort).filename
        real = True
    else:
        s = _sample(locale)
        session, person, filename, real = s.sessions[0], s.person, "mmdp-baku.ics", False
    old_start = session.starts_at - timedelta(days=1)
    old_end = session.ends_at - timedelta(days=1)
    context = notify.session_context(
        session, person, change, old_start, old_end, calendar_filename=filename
    )
    return context, real


def _certificate_context(locale: str, ids: set[int] | None) -> tuple[dict[str, Any], bool]:
    certificate = _real_certificate(ids)
    if certificate is not None:
        person = db.session.get(Person, certificate.person_id)
        cohort = db.session.get(Cohort, certificate.cohort_id)
        if person is not None and cohort is not None:
            return notify.certificate_context(certificate, person, cohort), True
    s = _sample(locale)
    return notify.certificate_context(s.certificate, s.person, s.cohort), False


def _account_context(kind: str, *, actor: User) -> dict[str, Any]:
    url = f"{base_url()}/preview-only-this-link-does-not-work"
    context: dict[str, Any] = {"user": actor, "url": url}
    if kind == "invitation":
        context.update(inviter=actor, roles=["participant"], days=7)
    else:
        context["minutes"] = int(current_app.config.get("SIGN_IN_LINK_MINUTES", 30))
    return context


def preview_context(preview: Preview, locale: str, *, actor: User) -> tuple[dict[str, Any], bool]:
    """The context a preview renders with (for ``actor``, who reads it: records of their
    programmes, their account for the account messages), and whether it holds real records."""
    ids = managed_programme_ids(actor)
    if preview.kind == notify.ENROLMENT_CONFIRMATION:
        return _enrolment_context(locale, ids)
    if preview.kind == notify.WAITLIST_PLACE:
        context, real = _enrolment_context(locale, ids)
        return notify.waitlist_context(context["enrolment"], place=3), real
    if preview.kind == notify.SESSION_CHANGED:
        return _session_context(locale, ids, preview.change or notify.MOVED)
    if preview.kind == notify.CERTIFICATE_ISSUED:
        return _certificate_context(locale, ids)
    return _account_context(preview.kind, actor=actor), True


def render_preview(preview: Preview, locale: str, *, actor: User) -> PreviewResult:
    """Render ``preview`` in ``locale`` for ``actor`` (nothing is written to the database)."""
    with db.session.no_autoflush:
        context, real = preview_context(preview, locale, actor=actor)
        try:
            rendered: Rendered | None = render(preview.kind, context, locale=locale)
        except TemplateNotFound:
            rendered = None
    return PreviewResult(preview, locale, rendered, real)
