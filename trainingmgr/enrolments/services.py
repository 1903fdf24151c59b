"""Enrolling people into cohorts: statuses, capacity, the waitlist and their history.

Every rule lives here; views, the CLI and tests call these functions. They raise
``DomainError`` for bad input, record an audit event for every change, and never commit.

Mutating functions first lock the cohort's row (``SELECT ... FOR UPDATE`` on PostgreSQL), so
two coordinators enrolling at the same moment cannot both take the last seat or the same
waitlist position.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
)
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.labels import label_for
from trainingmgr.core.pagination import Page, paginate
from trainingmgr.core.scope import visible_people
from trainingmgr.core.text import fold_query
from trainingmgr.enrolments.seats import (
    Seats,
    fill_waitlist,
    lock_cohort,
    renumber_waitlist,
    seats_of,
)
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.people import services as people
from trainingmgr.people.models import Person

S = EnrolmentStatus

# The status changes a coordinator may make, from -> to. Anything else is refused.
TRANSITIONS: dict[EnrolmentStatus, tuple[EnrolmentStatus, ...]] = {
    S.APPLIED: (S.ENROLLED, S.WAITLISTED, S.WITHDRAWN),
    S.WAITLISTED: (S.ENROLLED, S.WITHDRAWN),
    S.ENROLLED: (S.COMPLETED, S.NOT_COMPLETED, S.WITHDRAWN),
    S.COMPLETED: (S.NOT_COMPLETED, S.ENROLLED),
    S.NOT_COMPLETED: (S.COMPLETED, S.ENROLLED),
    S.WITHDRAWN: (S.ENROLLED, S.WAITLISTED),
}

# Statuses a new enrolment may be created with. ENROLLED goes to the waitlist when full.
CREATE_STATUSES = (S.ENROLLED, S.APPLIED)

# Roster order: people with a seat, then applications, the waitlist, and those who left.
STATUS_ORDER = (S.ENROLLED, S.COMPLETED, S.NOT_COMPLETED, S.APPLIED, S.WAITLISTED, S.WITHDRAWN)

MAX_BULK = 500
SEARCH_LIMIT = 100
HISTORY_LIMIT = 50

CREATE_ACTION = "enrolment.create"
STATUS_ACTION = "enrolment.status"


# --------------------------------------------------------------------------- reading


# The cohort and enrolment pages show the roster this many people at a time.
ROSTER_PER_PAGE = 100


@dataclass(frozen=True)
class Roster:
    """A cohort's enrolments, ready to show: counts, seats and the waitlist.

    ``enrolments`` is the whole roster, or one page of it (``page``), in roster order; the
    counts, seats and the offer to the first on the waitlist are always the whole cohort's.
    """

    cohort_id: int
    capacity: int | None
    enrolments: list[Enrolment]
    counts: dict[EnrolmentStatus, int]
    # The first on the waitlist (whether or not a seat is free for them).
    first_waiting: Enrolment | None = None
    # Whether person names can link to the people directory (its view exists).
    person_links: bool = False
    # The page shown, when the roster is paged (None: ``enrolments`` is the whole roster).
    page: Page[Enrolment] | None = None
    # The name or e-mail the page is filtered by ("": everyone).
    who: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def waitlist(self) -> list[Enrolment]:
        """The waitlisted among ``enrolments``, in waitlist order."""
        return [e for e in self.enrolments if e.status == S.WAITLISTED]

    @property
    def waitlist_length(self) -> int:
        return self.counts[S.WAITLISTED]

    @property
    def active(self) -> int:
        """Enrolments that take a seat."""
        return sum(self.counts[s] for s in ACTIVE_ENROLMENT)

    @property
    def seats_left(self) -> int | None:
        """Free seats, or None when the cohort has no capacity limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.active, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_left == 0

    @property
    def offer(self) -> Enrolment | None:
        """The next person on the waitlist when a seat is free for them."""
        if self.first_waiting is not None and not self.is_full:
            return self.first_waiting
        return None

    def allowed(self, enrolment: Enrolment) -> tuple[EnrolmentStatus, ...]:
        """The statuses ``enrolment`` may move to."""
        return TRANSITIONS[enrolment.status]

    @property
    def by_id(self) -> dict[int, Enrolment]:
        return {e.id: e for e in self.enrolments}

    def access(self) -> dict[int, Any]:
        """Per person id: whether they can get in (``portal.access``); two queries."""
        from trainingmgr.portal.access import access_states

        return access_states(e.person for e in self.enrolments)


def _roster_query(cohort_id: int) -> sa.Select[Any]:
    """A cohort's enrolments with their people, in roster order: by status (enrolled first,
    withdrawn last), place on the waitlist, then name."""
    rank = sa.case(
        {status.value: i for i, status in enumerate(STATUS_ORDER)},
        value=sa.cast(Enrolment.status, sa.String),
    )
    return (
        sa.select(Enrolment)
        .join(Enrolment.person)
        .where(Enrolment.cohort_id == cohort_id)
        .options(contains_eager(Enrolment.person))
        .order_by(
            rank,
            sa.func.coalesce(Enrolment.waitlist_position, 0),
            Person.last_name,
            Person.first_name,
            Enrolment.id,
        )
    )


def roster(
    cohort_id: int, page: int | None = None, per_page: int = ROSTER_PER_PAGE, who: str = ""
) -> Roster:
    """The roster of a cohort: every enrolment in two queries (exports and imports), or, with
    ``page``, one page of those whose name or e-mail matches ``who`` in at most six queries,
    whatever the size of the cohort (1,829 people on one page took half a second)."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(_("There is no such cohort."))
    links = has_app_context()
    counts = dict.fromkeys(STATUS_ORDER, 0)
    if page is None:
        enrolments = list(db.session.scalars(_roster_query(cohort_id)))
        for e in enrolments:
            counts[e.status] += 1
        first = next((e for e in enrolments if e.status == S.WAITLISTED), None)
        return Roster(cohort_id, cohort.capacity, enrolments, counts, first, links)
    for status, n in db.session.execute(
        sa.select(Enrolment.status, sa.func.count())
        .where(Enrolment.cohort_id == cohort_id)
        .group_by(Enrolment.status)
    ):
        counts[EnrolmentStatus(status)] = n
    query = _roster_query(cohort_id)
    if fold_query(who):
        query = query.where(people.search_condition(who))
    # Unfiltered, the counts already give the number of enrolments.
    shown = paginate(query, page, per_page, total=None if fold_query(who) else sum(counts.values()))
    first = db.session.scalar(
        _roster_query(cohort_id).where(Enrolment.status == S.WAITLISTED).limit(1)
    )
    return Roster(
        cohort_id, cohort.capacity, shown.items, counts, first, links, page=shown, who=who
    )


def enrolment_people(enrolment_ids: Iterable[int]) -> dict[int, Person]:
    """{enrolment id: its person} for these enrolments (one query)."""
    ids = sorted({i for i in enrolment_ids if i is not None})
    if not ids:
        return {}
    query = sa.select(Enrolment.id, Person).join(Enrolment.person).where(Enrolment.id.in_(ids))
    return {row[0]: row[1] for row in db.session.execute(query)}


@dataclass(frozen=True)
class Candidate:
    """A person found by a search, with their status in the cohort if they are on it."""

    person: Person
    status: EnrolmentStatus | None


@dataclass(frozen=True)
class SearchResult:
    candidates: list[Candidate]
    more: bool


def search_people(
    cohort_id: int,
    query: str,
    limit: int = SEARCH_LIMIT,
    programme_ids: Collection[int] | None = None,
) -> SearchResult:
    """People whose names or e-mail match every term of ``query`` (in any script), in one query.

    Each term matches the folded original or its ASCII transliteration, so "aliyeva" finds
    "Əliyeva" and "петров" finds "Петров". Merged records are left out, and so are people
    outside the scope of ``programme_ids`` (a coordinator's programmes; None: everyone).
    """
    if not fold_query(query):
        return SearchResult([], False)
    rows = db.session.execute(
        sa.select(Person, Enrolment.status)
        .outerjoin(
            Enrolment,
            sa.and_(Enrolment.person_id == Person.id, Enrolment.cohort_id == cohort_id),
        )
        .where(
            Person.merged_into_id.is_(None),
            visible_people(programme_ids),
            people.search_condition(query),
        )
        .order_by(*people.name_order(query))
        .limit(limit + 1)
    ).all()
    return SearchResult([Candidate(p, s) for p, s in rows[:limit]], len(rows) > limit)


def history(cohort_id: int, limit: int = HISTORY_LIMIT) -> list[AuditEvent]:
    """The latest enrolment events of a cohort (who did what when), newest first; one query."""
    ids = sa.select(Enrolment.id).where(Enrolment.cohort_id == cohort_id).scalar_subquery()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.object_type == Enrolment.__tablename__,
                AuditEvent.object_id.in_(ids),
            )
            .options(
                joinedload(AuditEvent.actor).options(
                    joinedload(User.person), lazyload(User.role_rows)
                )
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def get_enrolment(cohort_id: int, enrolment_id: int) -> Enrolment:
    """The enrolment ``enrolment_id`` of cohort ``cohort_id`` (NotFound for another cohort's)."""
    enrolment = db.session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.cohort_id == cohort_id)
        .options(joinedload(Enrolment.person))
    )
    if enrolment is None:
        raise NotFound(_("There is no such enrolment in this cohort."))
    return enrolment


def person_by_email(email: str) -> Person:
    """The (unmerged) person with this e-mail, for enrolling by e-mail."""
    address = email.strip().lower()
    person = db.session.scalar(sa.select(Person).where(Person.email == address))
    if person is None or person.merged_into_id is not None:
        raise DomainError(
            _(
                "No one in the directory has the e-mail %(email)s. "
                "Add them to the directory first, or search by name.",
                email=address,
            ),
            "email",
        )
    return person


def _status_summary(enrolment: Enrolment, old: EnrolmentStatus | None) -> str:
    # Stored in the audit trail, so it stays in one language (the values, not their labels).
    new = enrolment.status.value
    name = enrolment.person.full_name
    if old is None:
        return f"{name}: {new}"
    return f"{name}: {old.value} -> {new}"


# --------------------------------------------------------------------------- enrolling


@dataclass
class EnrolResult:
    """What a bulk enrolment did, person by person."""

    enrolled: list[Enrolment] = field(default_factory=list)
    waitlisted: list[Enrolment] = field(default_factory=list)
    applied: list[Enrolment] = field(default_factory=list)
    # People already on the roster: left as they were.
    already: list[Enrolment] = field(default_factory=list)

    @property
    def created(self) -> list[Enrolment]:
        return self.enrolled + self.waitlisted + self.applied


def _create_status(status: EnrolmentStatus | str) -> EnrolmentStatus:
    try:
        wanted = S(status)
    except ValueError:
        wanted = None
    if wanted not in CREATE_STATUSES:
        raise DomainError(_("Choose one of the options offered."), "status")
    return wanted


def enrol_people(
    cohort_id: int,
    person_ids: Iterable[int],
    *,
    actor: User | None,
    status: EnrolmentStatus | str = S.ENROLLED,
    refuse_already: bool = False,
    defer_mail: bool = False,
) -> EnrolResult:
    """Enrol several people at once, in the order given; all or nothing.

    With ``ENROLLED``, people take the free seats and the rest join the end of the waitlist
    (everyone joins it while others are waiting: the next free seat is theirs).
    People already on the roster are reported in ``already`` and left unchanged, or refused
    with a message when ``refuse_already``. With ``defer_mail`` (imports), the confirmations
    and waitlist places are written by the mail worker after the commit instead of now.
    """
    wanted = _create_status(status)
    ids = _bulk_ids(person_ids)
    seats = lock_cohort(cohort_id)
    if seats.cohort.status == CohortStatus.CLOSED:
        raise DomainError(_("This cohort is closed: it takes no new enrolments."))
    if fill_waitlist(cohort_id, actor=actor):  # those waiting take the free seats first
        seats = seats_of(cohort_id, lock=False)
    # ``people`` keeps the Person objects alive in the session's identity map, where
    # ``enrolment.person`` finds them below without a query.
    people, existing = _on_roster(cohort_id, ids)
    result = EnrolResult()
    for person_id in ids:
        if person_id in existing:
            if refuse_already:
                raise already_error(existing[person_id])
            result.already.append(existing[person_id])
            continue
        # person_id, not person=: setting the relationship would mark each person changed
        # (their enrolments collection), and flush them all again. ``enrolment.person`` is
        # then found in the session's identity map, without a query.
        enrolment = Enrolment(cohort_id=cohort_id, person_id=person_id, status=wanted)
        if wanted == S.APPLIED:
            result.applied.append(enrolment)
        elif seats.queue():
            seats.last_position += 1
            enrolment.status = S.WAITLISTED
            enrolment.waitlist_position = seats.last_position
            result.waitlisted.append(enrolment)
        else:
            seats.active += 1
            result.enrolled.append(enrolment)
        db.session.add(enrolment)
    db.session.flush()
    _record_created(result.created, actor=actor, programme_id=seats.cohort.programme_id)
    if defer_mail:
        notify.defer_enrolment_confirmations(result.enrolled)
        notify.defer_waitlist_places(result.waitlisted)
    else:
        notify.enrolment_confirmations(result.enrolled)
        notify.waitlist_places(result.waitlisted)
    return result


def _bulk_ids(person_ids: Iterable[int]) -> list[int]:
    """The people to enrol, each once, in the order given (at least one, at most MAX_BULK)."""
    ids = list(dict.fromkeys(int(i) for i in person_ids))
    if not ids:
        raise DomainError(_("Pick at least one person to enrol."), "person_ids")
    if len(ids) > MAX_BULK:
        raise DomainError(_("Enrol at most %(n)s people at a time.", n=MAX_BULK), "person_ids")
    return ids


def _on_roster(cohort_id: int, ids: list[int]) -> tuple[dict[int, Person], dict[int, Enrolment]]:
    """The people ``ids`` and their enrolments on the cohort (by person id); DomainError
    when one of them has left the directory (merged into another record)."""
    people = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Person).where(Person.id.in_(ids), Person.merged_into_id.is_(None))
        )
    }
    if len(people) != len(ids):
        raise DomainError(
            _("Some of the people picked are no longer in the directory. Search again."),
            "person_ids",
        )
    existing = {
        e.person_id: e
        for e in db.session.scalars(
            sa.select(Enrolment).where(
                Enrolment.cohort_id == cohort_id, Enrolment.person_id.in_(ids)
            )
        )
    }
    return people, existing


def _record_created(created: list[Enrolment], *, actor: User | None, programme_id: int) -> None:
    audit.record_many(  # one INSERT for all the events
        [
            {
                "object_id": enrolment.id,
                "changes": {
                    "status": [None, enrolment.status.value],
                    "person_id": [None, enrolment.person_id],
                    "waitlist_position": [None, enrolment.waitlist_position],
                },
                "summary": _status_summary(enrolment, None),
            }
            for enrolment in created
        ],
        action=CREATE_ACTION,
        actor=actor,
        object_type=Enrolment.__tablename__,
        programme_id=programme_id,
    )


def enrol(
    cohort_id: int,
    person_id: int,
    *,
    actor: User | None,
    status: EnrolmentStatus | str = S.ENROLLED,
) -> Enrolment:
    """Enrol one person (waitlisted when the cohort is full). Refused if already on the roster."""
    result = enrol_people(cohort_id, [person_id], actor=actor, status=status, refuse_already=True)
    return result.created[0]


def already_error(enrolment: Enrolment) -> DomainError:
    return DomainError(
        _(
            "%(name)s is already on this cohort's roster (%(status)s).",
            name=enrolment.person.full_name,
            status=label_for(enrolment.status),
        ),
        "person_ids",
    )


# --------------------------------------------------------------------------- status changes


def change_status(
    enrolment: Enrolment,
    new_status: EnrolmentStatus | str,
    *,
    actor: User | None,
    expect: EnrolmentStatus | None = None,
    fill: bool = True,
) -> Enrolment:
    """Move an enrolment to ``new_status`` if ``TRANSITIONS`` allows it and a seat is free.

    Joining the waitlist puts the person at its end; leaving it closes the gap (1..n).
    ``expect``: refuse unless the enrolment is (still) in that status. A seat freed goes to
    the waitlist (``fill_waitlist``) unless ``fill`` is False (the caller fills it).
    """
    try:
        new = S(new_status)
    except ValueError:
        raise DomainError(_("Choose one of the options offered."), "status") from None
    seats = lock_cohort(enrolment.cohort_id)
    db.session.refresh(enrolment)
    old = enrolment.status
    _check_transition(enrolment, new, expect, seats)
    old_position = enrolment.waitlist_position
    enrolment.status = new
    enrolment.waitlist_position = seats.last_position + 1 if new == S.WAITLISTED else None
    db.session.flush()
    if old == S.WAITLISTED:
        renumber_waitlist(enrolment.cohort_id)
    changes: dict[str, Any] = {"status": [old.value, new.value]}
    if old_position != enrolment.waitlist_position:
        changes["waitlist_position"] = [old_position, enrolment.waitlist_position]
    audit.record(
        STATUS_ACTION,
        actor=actor,
        obj=enrolment,
        programme_id=seats.cohort.programme_id,
        changes=changes,
        summary=_status_summary(enrolment, old),
    )
    if new == S.ENROLLED and old in (S.APPLIED, S.WAITLISTED, S.WITHDRAWN):
        notify.enrolment_confirmation(enrolment)
    if new == S.WAITLISTED:
        notify.waitlist_places([enrolment])
    if fill and old in ACTIVE_ENROLMENT and new not in ACTIVE_ENROLMENT:
        fill_waitlist(enrolment.cohort_id, actor=actor)
    return enrolment


def _check_transition(
    enrolment: Enrolment, new: EnrolmentStatus, expect: EnrolmentStatus | None, seats: Seats
) -> None:
    """DomainError unless ``enrolment`` may go to ``new`` now (``TRANSITIONS``, a free seat)."""
    old = enrolment.status
    name = enrolment.person.full_name
    if expect is not None and old != expect:
        raise DomainError(
            _("%(name)s is no longer %(status)s.", name=name, status=label_for(expect)), "status"
        )
    if new == old:
        raise DomainError(
            _("%(name)s is already %(status)s.", name=name, status=label_for(new)), "status"
        )
    if new not in TRANSITIONS[old]:
        raise DomainError(
            _(
                "An enrolment cannot go from %(old)s to %(new)s. "
                "From %(old)s it can become: %(allowed)s.",
                old=label_for(old),
                new=label_for(new),
                allowed=", ".join(str(label_for(s)) for s in TRANSITIONS[old]),
            ),
            "status",
        )
    if new in ACTIVE_ENROLMENT and old not in ACTIVE_ENROLMENT and seats.full():
        raise DomainError(seats.full_message(), "status")
