"""Who of a cohort can get in, and access links sent by a coordinator in bulk.

Per person the roster shows one of: no e-mail address (they cannot get a link: add one),
never signed in, link sent (on a date), active (has signed in), or deactivated. A
coordinator sends access links (sign-in links good ``ACCESS_LINK_DAYS``, in the cohort's
language) to everyone on the cohort who has never signed in, or to the people they select.
Functions here never commit: views do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import TokenPurpose, User, UserToken
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.core.urls import base_url
from trainingmgr.extensions import db
from trainingmgr.mail.recipients import cohort_locale, organisation_name, portal_path
from trainingmgr.mail.services import Rendered, address, render, send
from trainingmgr.people.models import Person
from trainingmgr.portal.services import ACCESS_LINK_DAYS, access_urls

NO_EMAIL = "no_email"
NEVER = "never"
SENT = "sent"
ACTIVE = "active"
DEACTIVATED = "deactivated"
# Most people a coordinator may send links to at once (a cohort is far smaller).
MAX_LINKS = 1000
# Who may get an access link to a cohort: everyone on it but those withdrawn or applying.
ON_COHORT = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


@dataclass(frozen=True)
class Access:
    """Whether a person can get in: ``state`` is one of the constants above."""

    state: str
    sent_at: datetime | None = None  # the latest sign-in link e-mailed to them

    @property
    def can_send(self) -> bool:
        return self.state in (NEVER, SENT)


def access_states(people: Iterable[Person]) -> dict[int, Access]:
    """The access of each person (two queries, whatever their number)."""
    people = list(people)
    ids = sorted({p.id for p in people})
    if not ids:
        return {}
    users = {
        u.person_id: u
        for u in db.session.scalars(sa.select(User).where(User.person_id.in_(ids)))
        if u.person_id is not None
    }
    holder = sa.func.coalesce(UserToken.person_id, User.person_id)
    sent = dict(
        db.session.execute(
            sa.select(holder, sa.func.max(UserToken.created_at))
            .outerjoin(User, User.id == UserToken.user_id)
            .where(
                UserToken.purpose == TokenPurpose.SIGN_IN,
                sa.or_(UserToken.person_id.in_(ids), User.person_id.in_(ids)),
            )
            .group_by(holder)
        ).all()
    )
    states = {}
    for person in people:
        user = users.get(person.id)
        sent_at = sent.get(person.id)
        if user is not None and not user.active:
            state = DEACTIVATED
        elif user is not None and user.last_login_at is not None:
            state = ACTIVE
        elif not person.email:
            state = NO_EMAIL
        else:
            state = SENT if sent_at is not None else NEVER
        states[person.id] = Access(state, sent_at)
    return states


@dataclass(frozen=True)
class CohortAccess:
    cohort: Cohort
    people: list[Person]
    access: dict[int, Access]

    @property
    def never_signed_in(self) -> list[Person]:
        """Those who can get a link and have never signed in (sent one or not)."""
        return [p for p in self.people if self.access[p.id].can_send]

    def count(self, state: str) -> int:
        return sum(1 for a in self.access.values() if a.state == state)


def cohort_access(cohort: Cohort) -> CohortAccess:
    """The people on ``cohort`` (not withdrawn) with their access; three queries."""
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ON_COHORT))
        .options(joinedload(Enrolment.person))
    ).all()
    people = sorted((e.person for e in enrolments), key=lambda p: (p.last_name, p.first_name, p.id))
    return CohortAccess(cohort, people, access_states(people))


def _context(cohort: Cohort, person: Person, url: str) -> dict[str, object]:
    return {
        "person": person,
        "cohort": cohort,
        "programme": cohort.programme,
        "url": url,
        "days": ACCESS_LINK_DAYS,
        "organisation_name": organisation_name(),
    }


def preview(cohort: Cohort, person: Person | None = None) -> Rendered:
    """The access e-mail as the first recipient gets it, in the cohort's language (its link
    a sample that signs nobody in)."""
    sample = person or Person(first_name=_("First name"), last_name=_("Last name"))
    url = f"{base_url()}/preview-only-this-link-does-not-work"
    return render("access_link", _context(cohort, sample, url), locale=cohort_locale(cohort))


def send_access_links(
    cohort: Cohort,
    *,
    actor: User,
    person_ids: Collection[int] | None = None,
    ip: str | None = None,
) -> int:
    """E-mail an access link to everyone on ``cohort`` who has never signed in, or to the
    people of ``person_ids`` (all on the cohort, with an address, not deactivated: else
    DomainError and nothing is sent). Returns the number of messages queued."""
    access = cohort_access(cohort)
    chosen = access.never_signed_in if person_ids is None else _chosen(access, person_ids)
    if not chosen:
        raise DomainError(_("Everyone on this cohort who can get a link has signed in already."))
    if len(chosen) > MAX_LINKS:
        raise DomainError(_("Send at most %(n)s links at once.", n=MAX_LINKS), "people")
    urls = access_urls(
        chosen,
        next_path=portal_path(),
        actor=actor,
        lifetime=timedelta(days=ACCESS_LINK_DAYS),
    )
    locale = cohort_locale(cohort)
    sent = 0
    for person in chosen:
        url = urls.get(person.id)
        if url is None or not person.email:
            continue
        send(
            "access_link",
            address(person.full_name, person.email),
            _context(cohort, person, url),
            locale=locale,
            programme_id=cohort.programme_id,
            cohort_id=cohort.id,
        )
        sent += 1
    audit.record(
        "cohort.access_links",
        actor=actor,
        obj=cohort,
        programme_id=cohort.programme_id,
        changes={"people": [p.id for p in chosen], "count": sent},
        summary=cohort.name,
        ip=ip,
    )
    return sent


def _chosen(access: CohortAccess, person_ids: Collection[int]) -> list[Person]:
    """The people of ``person_ids``: all on the cohort, with an address and an account that
    is not deactivated, else DomainError."""
    wanted = set(person_ids)
    on_cohort = {p.id: p for p in access.people}
    if not wanted:
        raise DomainError(_("Choose the people to send an access link to."), "people")
    if wanted - on_cohort.keys():
        raise DomainError(_("Some of the chosen people are not on this cohort."), "people")
    chosen = [p for p in access.people if p.id in wanted]
    refused = [p for p in chosen if access.access[p.id].state in (NO_EMAIL, DEACTIVATED)]
    if refused:
        raise DomainError(
            _(
                "No link can be sent to %(names)s (no e-mail address, or the account is "
                "deactivated).",
                names=", ".join(p.full_name for p in refused),
            ),
            "people",
        )
    return chosen
