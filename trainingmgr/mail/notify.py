"""The e-mails trainingmgr sends about training: they are queued here, in the caller's
transaction (the caller commits), and delivered later by the worker.

Each message is in the cohort's language (for a bilingual cohort, the recipient's own
language when it is one of the two), with a plain-text and an HTML part; times are shown in
the cohort's time zone. People without an e-mail address are skipped. Every function runs a
fixed number of queries, whatever the number of recipients.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, joinedload

from trainingmgr.accounts.models import User
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.calendar import cohort_calendar
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    Enrolment,
    Session,
    SessionStatus,
)
from trainingmgr.core import timefmt
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import base_url, external_url, verification_url
from trainingmgr.extensions import db
from trainingmgr.mail import deferred
from trainingmgr.mail import services as mail
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.mail.services import (
    Attachment,
    Rendered,
    address,
    message_bytes,
    message_locale,
    render,
    send,
)
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation.models import OrganisationSettings
from trainingmgr.people.models import Person

ENROLMENT_CONFIRMATION = "enrolment_confirmation"
SESSION_CHANGED = "session_changed"
CERTIFICATE_ISSUED = "certificate_issued"
WAITLIST_PLACE = "waitlist_place"

# What happened to a session (``session_changed``'s ``change``).
MOVED = "moved"
CANCELLED = "cancelled"
RESTORED = "restored"  # a cancelled session is back in the schedule
CHANGES = (MOVED, CANCELLED, RESTORED)

CALENDAR_MIMETYPE = "text/calendar"


# --------------------------------------------------------------------------- shared


@dataclass(frozen=True)
class Recipient:
    person: Person
    user_id: int | None
    user_locale: str | None


def cohort_locale(cohort: Cohort, user_locale: str | None = None) -> str:
    """The language of a message about ``cohort``: its language; for a bilingual cohort
    ("en+ru") the recipient's own language if it is one of the two, else the first."""
    languages = [code for code in (cohort.language or "").split("+") if code]
    if user_locale and user_locale in languages:
        return message_locale(user_locale)
    return message_locale(languages[0] if languages else None)


def portal_url() -> str:
    """Where participants see their training."""
    return external_url("home.participant")


def portal_path() -> str:
    """The same, as a path (where a sign-in link goes on to)."""
    return portal_url().removeprefix(base_url())


def access_urls(
    people: Iterable[Person], *, accounts: dict[int, User], next_path: str | None = None
) -> dict[int, str]:
    """Sign-in links for ``people`` (``portal.services.access_urls``)."""
    from trainingmgr.portal.services import access_urls as make_urls

    return make_urls(people, accounts=accounts, next_path=next_path)


def certificate_download_url(certificate: Certificate) -> str:
    return external_url("certificates.download", certificate_id=certificate.id)


def certificate_verify_url(certificate: Certificate) -> str:
    return verification_url(certificate.verification_code)


# --------------------------------------------------------------------------- look-ups

_CACHE = "trainingmgr.mail.notify"
# Changes to these make the cached look-ups stale.
_CACHED_MODELS = (Session, Cohort, OrganisationSettings)


def _cache() -> dict[Any, Any]:
    """Look-ups shared by the messages of one transaction (an import enrols people in chunks:
    the cohort's schedule is read once). Forgotten when the transaction ends and when a
    session, cohort or the settings are flushed."""
    return db.session.info.setdefault(_CACHE, {})


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_at_transaction_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:
        session.info.pop(_CACHE, None)


@sa.event.listens_for(OrmSession, "before_flush")
def _forget_changed(session: OrmSession, _context: Any, _instances: Any) -> None:
    if _CACHE in session.info and any(
        isinstance(obj, _CACHED_MODELS)
        for obj in chain(session.new, session.dirty, session.deleted)
    ):
        session.info.pop(_CACHE, None)


def organisation_name() -> str:
    cache = _cache()
    if "organisation" not in cache:
        cache["organisation"] = organisation.organisation_name()
    return str(cache["organisation"])


def _users_by_person(person_ids: Iterable[int]) -> dict[int, tuple[int, str | None]]:
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(User.person_id, User.id, User.locale).where(User.person_id.in_(ids))
    ).all()
    return {person_id: (user_id, locale) for person_id, user_id, locale in rows}


def accounts_by_person(person_ids: Iterable[int]) -> dict[int, User]:
    """The accounts of these people, by person id (one query)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    return {
        u.person_id: u
        for u in db.session.scalars(sa.select(User).where(User.person_id.in_(ids)))
        if u.person_id is not None
    }


def _recipients(
    people: Iterable[Person], cohort: Cohort, accounts: dict[int, User] | None = None
) -> list[Recipient]:
    """People with an e-mail address; for a bilingual cohort also their account's id and
    language (the message is in their language when the cohort speaks it). ``accounts``:
    the people's accounts when the caller has them (no query then)."""
    with_email = [p for p in people if p.email and p.merged_into_id is None]
    bilingual = "+" in (cohort.language or "")
    if accounts is not None:
        users = {pid: (u.id, u.locale) for pid, u in accounts.items()}
    else:
        users = _users_by_person(p.id for p in with_email) if bilingual else {}
    result = []
    for person in with_email:
        user_id, locale = users.get(person.id, (None, None))
        result.append(Recipient(person, user_id, locale))
    return result


def _send_to(
    kind: str,
    recipient: Recipient,
    cohort: Cohort,
    context: dict[str, Any],
    locale: str,
    attachments: Sequence[Attachment] = (),
    *,
    add: bool = True,
) -> OutboxMessage:
    """Queue a message about ``cohort`` to one recipient (logged under its programme)."""
    person = recipient.person
    return send(
        kind,
        address(person.full_name, person.email or ""),
        context,
        locale=locale,
        attachments=attachments,
        user_id=recipient.user_id,
        programme_id=cohort.programme_id,
        cohort_id=cohort.id,
        add=add,
    )


def scheduled_sessions(cohort_id: int) -> list[Session]:
    """The cohort's sessions that take place (not cancelled), in order."""
    cache = _cache()
    key = ("sessions", cohort_id)
    if key not in cache:
        cache[key] = list(
            db.session.scalars(
                sa.select(Session)
                .where(Session.cohort_id == cohort_id, Session.status == SessionStatus.SCHEDULED)
                .order_by(Session.starts_at, Session.id)
            )
        )
    return list(cache[key])


def calendar_attachment(cohort: Cohort, locale: str) -> Attachment:
    """The cohort's schedule as an .ics file, its texts in ``locale``."""
    cache = _cache()
    key = ("calendar", cohort.id, locale)
    if key not in cache:
        with force_locale(locale):
            ics = cohort_calendar(cohort)
        cache[key] = Attachment(ics.filename, ics.body, CALENDAR_MIMETYPE)
    attachment: Attachment = cache[key]
    return attachment


@dataclass(frozen=True)
class ScheduleLine:
    """A session as the e-mails list it: when (in the cohort's zone) and what."""

    when: str
    title: str


def session_when(session: Session, zone: str) -> str:
    """``Mon, Mar 2, 2026, 09:00–12:00`` in ``zone``, in the current language."""
    day = timefmt.fmt_day(session.starts_at, zone)
    start = timefmt.fmt_time(session.starts_at, zone)
    return f"{day}, {start}–{timefmt.fmt_time(session.ends_at, zone)}"


def schedule_lines(cohort: Cohort, sessions: Sequence[Session], locale: str) -> list[ScheduleLine]:
    """The schedule in ``locale``, formatted once for all the messages of a cohort."""
    key = ("schedule", cohort.id, locale, tuple(s.id for s in sessions))
    cache = _cache() if cohort.id is not None else {}
    if key not in cache:
        with force_locale(locale):
            cache[key] = [
                ScheduleLine(session_when(s, cohort.timezone), s.display_title) for s in sessions
            ]
    lines: list[ScheduleLine] = cache[key]
    return lines


# --------------------------------------------------------------------------- enrolment


def enrolment_context(
    enrolment: Enrolment,
    sessions: Sequence[Session],
    locale: str,
    *,
    calendar_filename: str = "",
    organisation: str | None = None,
) -> dict[str, Any]:
    """The template context of ``enrolment_confirmation`` in ``locale`` (previews use it
    too): ``sessions`` are the scheduled sessions, ``schedule`` the same as formatted lines."""
    cohort = enrolment.cohort
    return {
        "person": enrolment.person,
        "enrolment": enrolment,
        "cohort": cohort,
        "programme": cohort.programme,
        "sessions": list(sessions),
        "schedule": schedule_lines(cohort, sessions, locale),
        "portal_url": portal_url(),
        "calendar_filename": calendar_filename,
        "organisation_name": organisation_name() if organisation is None else organisation,
    }


@dataclass(frozen=True)
class _Confirmation:
    """One "you are enrolled" message, ready to render."""

    enrolment: Enrolment
    recipient: Recipient
    context: dict[str, Any]
    locale: str
    calendar: Attachment


def _confirmations(enrolments: Sequence[Enrolment]) -> Iterator[_Confirmation]:
    """The confirmations of ``enrolments`` to people with an address. The queries do not
    grow with the number of enrolments (per cohort: sessions, calendar, accounts, links)."""
    by_cohort: dict[int, list[Enrolment]] = {}
    for enrolment in enrolments:
        by_cohort.setdefault(enrolment.cohort_id, []).append(enrolment)
    organisation = organisation_name() if by_cohort else ""
    for group in by_cohort.values():
        cohort = group[0].cohort
        sessions = scheduled_sessions(cohort.id)
        people = [e.person for e in group]
        accounts = accounts_by_person(p.id for p in people if p.email)
        recipients = {r.person.id: r for r in _recipients(people, cohort, accounts)}
        # "Your training page" signs the participant in (creating their account the first
        # time) and opens it: most need nothing else to get in. Made when the message is
        # written (by the worker, for an import), so the link's 14 days start then.
        sign_in = access_urls(
            [r.person for r in recipients.values()], accounts=accounts, next_path=portal_path()
        )
        for enrolment in group:
            recipient = recipients.get(enrolment.person_id)
            if recipient is None:
                continue
            locale = cohort_locale(cohort, recipient.user_locale)
            calendar = calendar_attachment(cohort, locale)
            context = enrolment_context(
                enrolment,
                sessions,
                locale,
                calendar_filename=calendar.filename,
                organisation=organisation,
            )
            context["portal_url"] = sign_in.get(enrolment.person_id, context["portal_url"])
            yield _Confirmation(enrolment, recipient, context, locale, calendar)


def enrolment_confirmations(enrolments: Sequence[Enrolment]) -> list[OutboxMessage]:
    """Queue "you are enrolled" for each enrolment, with the cohort's schedule attached as an
    .ics file. The queries do not grow with the number of enrolments (per cohort: sessions,
    calendar, accounts)."""
    return [
        _send_to(
            ENROLMENT_CONFIRMATION,
            c.recipient,
            c.enrolment.cohort,
            c.context,
            c.locale,
            [c.calendar],
        )
        for c in _confirmations(enrolments)
    ]


def defer_enrolment_confirmations(enrolments: Sequence[Enrolment]) -> int:
    """Queue "you are enrolled" for each enrolment, to be written by the worker after the
    commit (``render_enrolment_confirmations``): an import enrolling thousands of people
    spends its time on the database, not on rendering e-mails. Returns the number queued."""
    rows = []
    by_cohort: dict[int, list[Enrolment]] = {}
    for enrolment in enrolments:
        by_cohort.setdefault(enrolment.cohort_id, []).append(enrolment)
    for group in by_cohort.values():
        cohort = group[0].cohort
        recipients = {r.person.id: r for r in _recipients((e.person for e in group), cohort)}
        for enrolment in group:
            recipient = recipients.get(enrolment.person_id)
            if recipient is None:
                continue
            rows.append(
                deferred.row(
                    ENROLMENT_CONFIRMATION,
                    recipient.person.email or "",
                    {"enrolment_id": enrolment.id},
                    user_id=recipient.user_id,
                    programme_id=cohort.programme_id,
                    cohort_id=cohort.id,
                )
            )
    deferred.queue(rows)
    return len(rows)


def render_enrolment_confirmations(rows: Sequence[OutboxMessage]) -> None:
    """Write the messages queued by ``defer_enrolment_confirmations`` (the worker calls it):
    the same message as ``enrolment_confirmations`` would have queued, rendered now."""
    wanted = {row.id: (row.render_args or {}).get("enrolment_id") for row in rows}
    found = {
        e.id: e
        for e in db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.id.in_({i for i in wanted.values() if i is not None}))
            .options(
                joinedload(Enrolment.person),
                joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            )
        )
    }
    written = {c.enrolment.id: c for c in _confirmations(list(found.values()))}
    for row in rows:
        confirmation = written.get(wanted[row.id] or 0)
        if confirmation is None:
            deferred.give_up(row, "the enrolment or the person's address no longer exists")
            continue
        person = confirmation.recipient.person
        rendered = render(ENROLMENT_CONFIRMATION, confirmation.context, locale=confirmation.locale)
        to = address(person.full_name, person.email or "")
        attachments = [confirmation.calendar]
        data = message_bytes(to, rendered.subject, rendered.text, rendered.html, attachments)
        deferred.written(row, rendered, data)


deferred.RENDERERS[ENROLMENT_CONFIRMATION] = render_enrolment_confirmations


def enrolment_confirmation(enrolment: Enrolment) -> OutboxMessage | None:
    """Queue "you are enrolled" to the enrolled person (None: they have no e-mail address)."""
    messages = enrolment_confirmations([enrolment])
    return messages[0] if messages else None


def waitlist_context(
    enrolment: Enrolment, *, place: int | None = None, organisation: str | None = None
) -> dict[str, Any]:
    """The template context of ``waitlist_place`` (previews use it too)."""
    cohort = enrolment.cohort
    return {
        "person": enrolment.person,
        "cohort": cohort,
        "programme": cohort.programme,
        "place": place or enrolment.waitlist_position or 1,
        "portal_url": portal_url(),
        "organisation_name": organisation_name() if organisation is None else organisation,
    }


def waitlist_places(enrolments: Sequence[Enrolment]) -> list[OutboxMessage]:
    """Tell each person put on a waitlist their place in it (those with an e-mail address).
    One query per cohort (their accounts, for bilingual cohorts), whatever their number."""
    by_cohort: dict[int, list[Enrolment]] = {}
    for enrolment in enrolments:
        by_cohort.setdefault(enrolment.cohort_id, []).append(enrolment)
    organisation = organisation_name() if by_cohort else ""
    messages = []
    for group in by_cohort.values():
        cohort = group[0].cohort
        recipients = {r.person.id: r for r in _recipients((e.person for e in group), cohort)}
        for enrolment in group:
            recipient = recipients.get(enrolment.person_id)
            if recipient is None:
                continue
            locale = cohort_locale(cohort, recipient.user_locale)
            context = waitlist_context(enrolment, organisation=organisation)
            messages.append(_send_to(WAITLIST_PLACE, recipient, cohort, context, locale))
    return messages


# --------------------------------------------------------------------------- sessions


def session_context(
    session: Session,
    person: Person,
    change: str,
    old_starts_at: datetime | None,
    old_ends_at: datetime | None,
    *,
    calendar_filename: str = "",
    organisation: str | None = None,
) -> dict[str, Any]:
    """The template context of ``session_changed`` (previews use it too)."""
    if change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}, not {change!r}")
    cohort = session.cohort
    return {
        "person": person,
        "cohort": cohort,
        "programme": cohort.programme,
        "session": session,
        "change": change,
        "old_starts_at": old_starts_at or session.starts_at,
        "old_ends_at": old_ends_at or session.ends_at,
        "calendar_filename": calendar_filename,
        "organisation_name": organisation_name() if organisation is None else organisation,
    }


def session_change_recipients(
    session: Session, old_ends_at: datetime | None = None
) -> list[Recipient]:
    """Who is told about a change of ``session``: every active participant of its cohort
    (enrolled, completed or not completed) and its trainers, those with an e-mail address,
    in name order; nobody when the session is over (before and after the change). A fixed
    number of queries, whatever the number of participants."""
    now = utcnow()
    if session.ends_at <= now and (old_ends_at is None or old_ends_at <= now):
        return []
    people = db.session.scalars(
        sa.select(Person)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(
            Enrolment.cohort_id == session.cohort_id,
            Enrolment.status.in_(ACTIVE_ENROLMENT),
            Person.email.is_not(None),
            Person.merged_into_id.is_(None),
        )
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    taking_part = {p.id for p in people}
    trainers = [
        t
        for t in session.trainers
        if t.email and t.merged_into_id is None and t.id not in taking_part
    ]
    return _recipients([*people, *trainers], session.cohort)


def session_change_preview(
    session: Session,
    change: str,
    recipient: Recipient,
    old_starts_at: datetime | None = None,
    old_ends_at: datetime | None = None,
) -> Rendered:
    """The message ``recipient`` would get about the change, rendered (nothing is queued)."""
    cohort = session.cohort
    locale = cohort_locale(cohort, recipient.user_locale)
    context = session_context(
        session,
        recipient.person,
        change,
        old_starts_at,
        old_ends_at,
        calendar_filename=calendar_attachment(cohort, locale).filename,
    )
    return render(SESSION_CHANGED, context, locale=locale)


def session_changed(
    session: Session,
    change: str,
    old_starts_at: datetime | None = None,
    old_ends_at: datetime | None = None,
) -> list[OutboxMessage]:
    """Tell the people ``session_change_recipients`` names that the session was moved,
    cancelled or restored.

    ``change`` is "moved" (give the old times), "cancelled" or "restored". One message per
    person, with the updated schedule attached (calendar apps update their copy). Nothing is
    sent about a session that is over (before and after the change). A fixed number of
    queries, whatever the number of participants.
    """
    if change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}, not {change!r}")
    cohort = session.cohort
    recipients = session_change_recipients(session, old_ends_at)
    if not recipients:
        return []
    organisation = organisation_name()
    messages = []
    for recipient in recipients:
        locale = cohort_locale(cohort, recipient.user_locale)
        calendar = calendar_attachment(cohort, locale)
        context = session_context(
            session,
            recipient.person,
            change,
            old_starts_at,
            old_ends_at,
            calendar_filename=calendar.filename,
            organisation=organisation,
        )
        messages.append(_send_to(SESSION_CHANGED, recipient, cohort, context, locale, [calendar]))
    return messages


# --------------------------------------------------------------------------- certificates


def certificate_context(certificate: Certificate, person: Person, cohort: Cohort) -> dict[str, Any]:
    """The template context of ``certificate_issued`` (previews use it too)."""
    return {
        "person": person,
        "certificate": certificate,
        "cohort": cohort,
        "programme": cohort.programme,
        "download_url": certificate_download_url(certificate),
        "verify_url": certificate_verify_url(certificate),
        "organisation_name": organisation_name(),
    }


def certificate_issued(certificate: Certificate) -> OutboxMessage | None:
    """Queue "your certificate is ready" with its download and verification links to the
    certificate's holder (None: they have no e-mail address). Call it after the certificate
    is flushed (it needs its id)."""
    cohort = db.session.get(Cohort, certificate.cohort_id)
    if cohort is None:
        return None
    messages = certificates_issued([certificate], cohort)
    return messages[0] if messages else None


def defer_certificates_issued(certificates: Sequence[Certificate], cohort: Cohort) -> int:
    """Queue ``certificates_issued``'s messages to be written by the worker after the commit
    (``render_certificates_issued``): issuing a whole cohort spends its time on the
    certificates, not on 120 e-mails. The same messages; returns how many were queued."""
    people = [db.session.get(Person, c.person_id) for c in certificates]
    recipients = {r.person.id: r for r in _recipients((p for p in people if p), cohort)}
    rows = [
        deferred.row(
            CERTIFICATE_ISSUED,
            recipient.person.email or "",
            {"certificate_id": certificate.id},
            user_id=recipient.user_id,
            programme_id=cohort.programme_id,
            cohort_id=cohort.id,
        )
        for certificate in certificates
        if (recipient := recipients.get(certificate.person_id)) is not None
    ]
    deferred.queue(rows)
    return len(rows)


def render_certificates_issued(rows: Sequence[OutboxMessage]) -> None:
    """Write the messages queued by ``defer_certificates_issued`` (the worker calls it)."""
    wanted = {row.id: (row.render_args or {}).get("certificate_id") for row in rows}
    found = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Certificate).where(
                Certificate.id.in_({i for i in wanted.values() if i is not None})
            )
        )
    }
    people = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Person).where(Person.id.in_({c.person_id for c in found.values()}))
        )
    }
    cohorts = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Cohort)
            .where(Cohort.id.in_({c.cohort_id for c in found.values()}))
            .options(joinedload(Cohort.programme))
        )
    }
    recipients: dict[tuple[int, int], Recipient] = {}
    for cohort in cohorts.values():
        holders = [people[c.person_id] for c in found.values() if c.cohort_id == cohort.id]
        recipients |= {(cohort.id, r.person.id): r for r in _recipients(holders, cohort)}
    for row in rows:
        certificate = found.get(wanted[row.id] or 0)
        recipient = certificate and recipients.get((certificate.cohort_id, certificate.person_id))
        if certificate is None or recipient is None:
            deferred.give_up(row, "the certificate or the person's address no longer exists")
            continue
        cohort = cohorts[certificate.cohort_id]
        context = certificate_context(certificate, recipient.person, cohort)
        rendered = render(
            CERTIFICATE_ISSUED, context, locale=cohort_locale(cohort, recipient.user_locale)
        )
        to = address(recipient.person.full_name, recipient.person.email or "")
        deferred.written(
            row, rendered, message_bytes(to, rendered.subject, rendered.text, rendered.html)
        )


deferred.RENDERERS[CERTIFICATE_ISSUED] = render_certificates_issued


def certificates_issued(certificates: Sequence[Certificate], cohort: Cohort) -> list[OutboxMessage]:
    """``certificate_issued`` for several certificates of ``cohort`` (issuing a whole cohort):
    the queries do not grow with the number of certificates. Several messages are written
    in one INSERT (the rows returned are then not in the session)."""
    single = len(certificates) == 1
    people = [db.session.get(Person, c.person_id) for c in certificates]
    recipients = {r.person.id: r for r in _recipients((p for p in people if p), cohort)}
    messages = []
    for certificate in certificates:
        recipient = recipients.get(certificate.person_id)
        if recipient is None:
            continue
        context = certificate_context(certificate, recipient.person, cohort)
        locale = cohort_locale(cohort, recipient.user_locale)
        messages.append(
            _send_to(CERTIFICATE_ISSUED, recipient, cohort, context, locale, add=single)
        )
    if not single:
        mail.insert_all(messages)  # one INSERT for a cohort's messages
    return messages
