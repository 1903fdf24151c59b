"""The e-mail "your certificate is ready" (at once, or written by the worker after the
commit when a whole cohort is issued)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import Cohort
from trainingmgr.extensions import db
from trainingmgr.mail import deferred
from trainingmgr.mail import services as mail
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.mail.recipients import (
    Prepared,
    Recipient,
    _recipients,
    _send_to,
    certificate_download_url,
    certificate_verify_url,
    cohort_locale,
    deferred_row,
    organisation_name,
    write_deferred,
)
from trainingmgr.people.models import Person

CERTIFICATE_ISSUED = "certificate_issued"


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
        deferred_row(CERTIFICATE_ISSUED, recipient, cohort, {"certificate_id": certificate.id})
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
        locale = cohort_locale(cohort, recipient.user_locale)
        write_deferred(row, Prepared(CERTIFICATE_ISSUED, recipient, context, locale))


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
