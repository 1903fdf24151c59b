"""What the e-mails about training share (``notify`` gathers the kinds of message): who
gets one and in which language, the links they carry, the schedule as they list it, and
the look-ups the messages of one transaction share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from trainingmgr.accounts.models import User
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.calendar import cohort_calendar
from trainingmgr.cohorts.models import Cohort, Session
from trainingmgr.core import timefmt
from trainingmgr.core.urls import base_url, external_url, verification_url
from trainingmgr.extensions import db
from trainingmgr.mail import deferred
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.mail.services import (
    Attachment,
    address,
    message_bytes,
    message_locale,
    render,
    send,
)
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation.models import OrganisationSettings
from trainingmgr.people.models import Person

CALENDAR_MIMETYPE = "text/calendar"


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


def deferred_row(
    kind: str, recipient: Recipient, cohort: Cohort, render_args: dict[str, Any]
) -> dict[str, Any]:
    """An outbox row about ``cohort`` to ``recipient``, for the worker to write from
    ``render_args`` (``deferred.row``; queued with ``deferred.queue``)."""
    return deferred.row(
        kind,
        recipient.person.email or "",
        render_args,
        user_id=recipient.user_id,
        programme_id=cohort.programme_id,
        cohort_id=cohort.id,
    )


@dataclass(frozen=True)
class Prepared:
    """A message ready to render: queued at once (``_send_to``) or written by the worker
    for a deferred outbox row (``write_deferred``)."""

    kind: str
    recipient: Recipient
    context: dict[str, Any]
    locale: str
    attachments: Sequence[Attachment] = ()


def write_deferred(row: OutboxMessage, message: Prepared) -> None:
    """Write the deferred ``row`` (the worker does, ``deferred.RENDERERS``): the message
    ``_send_to`` would have queued at once."""
    person = message.recipient.person
    rendered = render(message.kind, message.context, locale=message.locale)
    to = address(person.full_name, person.email or "")
    body = message_bytes(
        to, rendered.subject, rendered.text, rendered.html, list(message.attachments)
    )
    deferred.written(row, rendered, body)


def scheduled_sessions(cohort_id: int) -> list[Session]:
    """The cohort's sessions that take place (not cancelled), in order."""
    cache = _cache()
    key = ("sessions", cohort_id)
    if key not in cache:
        cache[key] = list(
            db.session.scalars(
                sa.select(Session)
                .where(Session.cohort_id == cohort_id, Session.scheduled)
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
