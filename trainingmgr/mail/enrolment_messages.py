"""The e-mails about enrolments: "you are enrolled" and "your place on the waitlist", each
queued at once or, after an import, written by the worker (``mail.deferred``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainingmgr.cohorts.models import Cohort, Enrolment, Session
from trainingmgr.extensions import db
from trainingmgr.mail import deferred
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.mail.recipients import (
    Prepared,
    Recipient,
    _recipients,
    _send_to,
    access_urls,
    accounts_by_person,
    calendar_attachment,
    cohort_locale,
    deferred_row,
    organisation_name,
    portal_path,
    portal_url,
    schedule_lines,
    scheduled_sessions,
    write_deferred,
)

ENROLMENT_CONFIRMATION = "enrolment_confirmation"
WAITLIST_PLACE = "waitlist_place"


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


def _confirmations(enrolments: Sequence[Enrolment]) -> Iterator[tuple[Enrolment, Prepared]]:
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
            yield (
                enrolment,
                Prepared(ENROLMENT_CONFIRMATION, recipient, context, locale, [calendar]),
            )


def enrolment_confirmations(enrolments: Sequence[Enrolment]) -> list[OutboxMessage]:
    """Queue "you are enrolled" for each enrolment, with the cohort's schedule attached as an
    .ics file. The queries do not grow with the number of enrolments (per cohort: sessions,
    calendar, accounts)."""
    return [
        _send_to(m.kind, m.recipient, e.cohort, m.context, m.locale, m.attachments)
        for e, m in _confirmations(enrolments)
    ]


def _reachable(
    enrolments: Sequence[Enrolment],
) -> Iterator[tuple[Cohort, Enrolment, Recipient]]:
    """Each enrolment whose person has an e-mail address, with its cohort and recipient,
    cohort by cohort (one query per bilingual cohort: its people's accounts)."""
    by_cohort: dict[int, list[Enrolment]] = {}
    for enrolment in enrolments:
        by_cohort.setdefault(enrolment.cohort_id, []).append(enrolment)
    for group in by_cohort.values():
        cohort = group[0].cohort
        recipients = {r.person.id: r for r in _recipients((e.person for e in group), cohort)}
        for enrolment in group:
            recipient = recipients.get(enrolment.person_id)
            if recipient is not None:
                yield cohort, enrolment, recipient


def defer_enrolment_confirmations(enrolments: Sequence[Enrolment]) -> int:
    """Queue "you are enrolled" for each enrolment, to be written by the worker after the
    commit (``render_enrolment_confirmations``): an import enrolling thousands of people
    spends its time on the database, not on rendering e-mails. Returns the number queued."""
    rows = [
        deferred_row(ENROLMENT_CONFIRMATION, recipient, cohort, {"enrolment_id": enrolment.id})
        for cohort, enrolment, recipient in _reachable(enrolments)
    ]
    deferred.queue(rows)
    return len(rows)


def _queued_enrolments(rows: Sequence[OutboxMessage]) -> dict[int, Enrolment]:
    """The enrolments the deferred ``rows`` are about (``render_args["enrolment_id"]``),
    with their people, cohorts and programmes, by id (one query); gone ones are missing."""
    ids = {(row.render_args or {}).get("enrolment_id") for row in rows} - {None}
    return {
        e.id: e
        for e in db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.id.in_(ids))
            .options(
                joinedload(Enrolment.person),
                joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            )
        )
    }


def _enrolment_id(row: OutboxMessage) -> int:
    return int((row.render_args or {}).get("enrolment_id") or 0)


GONE = "the enrolment or the person's address no longer exists"


def render_enrolment_confirmations(rows: Sequence[OutboxMessage]) -> None:
    """Write the messages queued by ``defer_enrolment_confirmations`` (the worker calls it):
    the same message as ``enrolment_confirmations`` would have queued, rendered now."""
    found = _queued_enrolments(rows)
    written = {e.id: message for e, message in _confirmations(list(found.values()))}
    for row in rows:
        message = written.get(_enrolment_id(row))
        if message is None:
            deferred.give_up(row, GONE)
            continue
        write_deferred(row, message)


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
    organisation = organisation_name() if enrolments else ""
    messages = []
    for cohort, enrolment, recipient in _reachable(enrolments):
        locale = cohort_locale(cohort, recipient.user_locale)
        context = waitlist_context(enrolment, organisation=organisation)
        messages.append(_send_to(WAITLIST_PLACE, recipient, cohort, context, locale))
    return messages


def defer_waitlist_places(enrolments: Sequence[Enrolment]) -> int:
    """Queue "your place on the waitlist" for each enrolment, to be written by the worker
    after the commit (``render_waitlist_places``), as an import's confirmations are: the
    place is the one given now. Returns the number queued."""
    rows = [
        deferred_row(
            WAITLIST_PLACE,
            recipient,
            cohort,
            {"enrolment_id": enrolment.id, "place": enrolment.waitlist_position},
        )
        for cohort, enrolment, recipient in _reachable(enrolments)
    ]
    deferred.queue(rows)
    return len(rows)


def render_waitlist_places(rows: Sequence[OutboxMessage]) -> None:
    """Write the messages queued by ``defer_waitlist_places`` (the worker calls it): the
    same message as ``waitlist_places`` would have queued, with the place queued."""
    found = _queued_enrolments(rows)
    reachable = {e.id: (c, r) for c, e, r in _reachable(list(found.values()))}
    organisation = organisation_name() if reachable else ""
    for row in rows:
        enrolment_id = _enrolment_id(row)
        if enrolment_id not in reachable:
            deferred.give_up(row, GONE)
            continue
        cohort, recipient = reachable[enrolment_id]
        place = (row.render_args or {}).get("place")
        context = waitlist_context(found[enrolment_id], place=place, organisation=organisation)
        locale = cohort_locale(cohort, recipient.user_locale)
        write_deferred(row, Prepared(WAITLIST_PLACE, recipient, context, locale))


deferred.RENDERERS[WAITLIST_PLACE] = render_waitlist_places
