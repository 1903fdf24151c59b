"""Enrolment: statuses, capacity, the waitlist and its offer, the audit trail, the pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import Cohort, CohortStatus, Enrolment, EnrolmentStatus
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.enrolments import services
from trainingmgr.enrolments import waitlist as enrolment_waitlist
from trainingmgr.people.models import Person

S = EnrolmentStatus


# --------------------------------------------------------------------------- helpers


def statuses(cohort: Cohort, db_session: Any) -> dict[int, tuple[S, int | None]]:
    """person id -> (status, waitlist position), as stored."""
    db_session.flush()
    db_session.expire_all()
    rows = db_session.execute(
        sa.select(Enrolment.person_id, Enrolment.status, Enrolment.waitlist_position).where(
            Enrolment.cohort_id == cohort.id
        )
    )
    return {pid: (status, pos) for pid, status, pos in rows}


def count_enrolments(db_session: Any, cohort: Cohort) -> int:
    return db_session.scalar(
        sa.select(sa.func.count()).select_from(Enrolment).where(Enrolment.cohort_id == cohort.id)
    )


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def coordinator(make: Any, db_session: Any) -> User:
    return make.user(Role.COORDINATOR)


@pytest.fixture
def small(make: Any, db_session: Any) -> Cohort:
    """A cohort with two seats."""
    return make.cohort(capacity=2)


@pytest.fixture()
def by_hand(make: Any, db_session: Any) -> Cohort:
    """A cohort with two seats whose coordinator promotes from the waitlist by hand."""
    return make.cohort(capacity=2, auto_fill_waitlist=False)


def enrol_four(cohort: Cohort, make: Any, actor: User) -> list[Person]:
    people = [make.person(first_name=n, last_name="Test") for n in ("Ana", "Ben", "Cem", "Dan")]
    for p in people:
        services.enrol(cohort.id, p.id, actor=actor)
    return people


# --------------------------------------------------------------------------- capacity, waitlist


def test_over_capacity_new_enrolments_join_the_waitlist_in_order(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    ana, ben, cem, dan = enrol_four(small, make, coordinator)
    assert statuses(small, db_session) == {
        ana.id: (S.ENROLLED, None),
        ben.id: (S.ENROLLED, None),
        cem.id: (S.WAITLISTED, 1),
        dan.id: (S.WAITLISTED, 2),
    }
    roster = services.roster(small.id)
    assert (roster.active, roster.capacity, roster.seats_left) == (2, 2, 0)
    assert roster.counts[S.ENROLLED] == 2 and roster.counts[S.WAITLISTED] == 2
    assert [e.person for e in roster.waitlist] == [cem, dan]
    assert roster.offer is None


def test_withdrawal_offers_the_first_waitlisted_and_promotion_renumbers_the_rest(
    by_hand: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    ana, ben, cem, dan = enrol_four(by_hand, make, coordinator)
    ana_enrolment = services.roster(by_hand.id).enrolments[0]
    assert ana_enrolment.person == ana

    offer = enrolment_waitlist.withdraw(ana_enrolment, actor=coordinator).offer

    assert offer is not None and offer.person == cem
    assert services.roster(by_hand.id).offer.person == cem
    # Promotion is the coordinator's decision: nothing moved yet.
    assert statuses(by_hand, db_session)[cem.id] == (S.WAITLISTED, 1)

    promoted = enrolment_waitlist.promote(by_hand.id, actor=coordinator)

    assert promoted.person == cem
    assert statuses(by_hand, db_session) == {
        ana.id: (S.WITHDRAWN, None),
        ben.id: (S.ENROLLED, None),
        cem.id: (S.ENROLLED, None),
        dan.id: (S.WAITLISTED, 1),
    }
    assert services.roster(by_hand.id).offer is None


def test_promoting_a_chosen_person_keeps_the_others_in_order(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = make.cohort(capacity=1)
    people = [make.person() for _ in range(4)]
    result = services.enrol_people(cohort.id, [p.id for p in people], actor=coordinator)
    assert [e.waitlist_position for e in result.waitlisted] == [1, 2, 3]
    services.change_status(result.enrolled[0], S.COMPLETED, actor=coordinator)
    cohort.capacity = 2

    enrolment_waitlist.promote(cohort.id, actor=coordinator, enrolment_id=result.waitlisted[1].id)

    stored = statuses(cohort, db_session)
    assert stored[people[2].id] == (S.ENROLLED, None)
    assert stored[people[1].id] == (S.WAITLISTED, 1)
    assert stored[people[3].id] == (S.WAITLISTED, 2)


def test_promotion_is_refused_when_no_seat_is_free(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    enrol_four(small, make, coordinator)
    with pytest.raises(DomainError, match=r"The cohort is full \(2 of 2\)"):
        enrolment_waitlist.promote(small.id, actor=coordinator)
    assert services.roster(small.id).counts[S.WAITLISTED] == 2


def test_promoting_someone_not_on_the_waitlist_is_refused(
    small: Cohort, make: Any, coordinator: User
) -> None:
    enrolment = services.enrol(small.id, make.person(first_name="Ana").id, actor=coordinator)
    with pytest.raises(DomainError, match="Ana .* no longer Waitlisted"):
        enrolment_waitlist.promote(small.id, actor=coordinator, enrolment_id=enrolment.id)
    with pytest.raises(DomainError, match="Nobody is on the waitlist"):
        enrolment_waitlist.promote(small.id, actor=coordinator)


def test_newcomers_queue_behind_the_waitlist_even_when_a_seat_is_free(
    by_hand: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    ana, ben, cem, dan = enrol_four(by_hand, make, coordinator)
    enrolment_waitlist.withdraw(services.roster(by_hand.id).enrolments[0], actor=coordinator)

    eve = services.enrol(by_hand.id, make.person(first_name="Eve").id, actor=coordinator)

    assert (eve.status, eve.waitlist_position) == (S.WAITLISTED, 3)
    assert services.roster(by_hand.id).offer.person == cem


def test_no_capacity_means_no_waitlist(make: Any, coordinator: User) -> None:
    cohort = make.cohort(capacity=None)
    result = services.enrol_people(
        cohort.id, [make.person().id for _ in range(5)], actor=coordinator
    )
    assert len(result.enrolled) == 5
    roster = services.roster(cohort.id)
    assert roster.seats_left is None and roster.offer is None


def test_applied_takes_no_seat(small: Cohort, make: Any, coordinator: User) -> None:
    applied = services.enrol(small.id, make.person().id, actor=coordinator, status=S.APPLIED)
    assert (applied.status, applied.waitlist_position) == (S.APPLIED, None)
    roster = services.roster(small.id)
    assert roster.seats_left == 2
    services.change_status(applied, S.ENROLLED, actor=coordinator)
    assert services.roster(small.id).seats_left == 1


def test_enrolling_someone_already_on_the_roster_is_refused(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    person = make.person(first_name="Ləman", last_name="Əliyeva")
    services.enrol(small.id, person.id, actor=coordinator)
    with pytest.raises(DomainError) as refused:
        services.enrol(small.id, person.id, actor=coordinator, status=S.APPLIED)
    assert refused.value.message == "Ləman Əliyeva is already on this cohort's roster (Enrolled)."
    assert count_enrolments(db_session, small) == 1


def test_bulk_enrol_fills_the_seats_then_the_waitlist_in_one_transaction(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    people = [make.person() for _ in range(3)]

    result = services.enrol_people(small.id, [p.id for p in people], actor=coordinator)

    assert [e.person for e in result.enrolled] == people[:2]
    assert [(e.person, e.waitlist_position) for e in result.waitlisted] == [(people[2], 1)]
    assert result.already == []
    assert len(events(db_session, "enrolment.create")) == 3


def test_bulk_enrol_reports_people_already_enrolled_without_failing_the_rest(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    known, new = make.person(), make.person()
    services.enrol(small.id, known.id, actor=coordinator)

    result = services.enrol_people(small.id, [known.id, new.id, new.id], actor=coordinator)

    assert [e.person for e in result.already] == [known]
    assert [e.person for e in result.enrolled] == [new]
    assert count_enrolments(db_session, small) == 2


def test_bulk_enrol_with_an_unknown_person_writes_nothing(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    merged_into = make.person()
    merged = make.person(merged_into_id=merged_into.id)
    for bad in (10**9, merged.id):
        with pytest.raises(DomainError, match="no longer in the directory"):
            services.enrol_people(small.id, [make.person().id, bad], actor=coordinator)
    assert count_enrolments(db_session, small) == 0
    assert events(db_session, "enrolment.create") == []


@pytest.mark.parametrize("status", ["completed", "withdrawn", "nonsense"])
def test_new_enrolments_start_as_enrolled_or_applied_only(
    small: Cohort, make: Any, coordinator: User, status: str
) -> None:
    with pytest.raises(DomainError) as refused:
        services.enrol(small.id, make.person().id, actor=coordinator, status=status)
    assert refused.value.field == "status"


def test_closed_cohorts_take_no_newcomers_and_archived_ones_no_changes(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = make.cohort(capacity=5)
    enrolment = services.enrol(cohort.id, make.person().id, actor=coordinator)
    cohort.status = CohortStatus.CLOSED
    with pytest.raises(DomainError, match="closed"):
        services.enrol(cohort.id, make.person().id, actor=coordinator)
    # Marking completion still happens after a cohort closes.
    services.change_status(enrolment, S.COMPLETED, actor=coordinator)
    cohort.status = CohortStatus.ARCHIVED
    with pytest.raises(DomainError, match="archived"):
        services.change_status(enrolment, S.NOT_COMPLETED, actor=coordinator)
    assert statuses(cohort, db_session)[enrolment.person_id] == (S.COMPLETED, None)


# --------------------------------------------------------------------------- status changes


DISALLOWED = [
    (old, new) for old in S for new in S if new != old and new not in services.TRANSITIONS[old]
]


def make_in_status(cohort: Cohort, status: S, make: Any) -> Enrolment:
    position = 1 if status == S.WAITLISTED else None
    return make.enrolment(cohort=cohort, status=status, waitlist_position=position)


@pytest.mark.parametrize(("old", "new"), DISALLOWED, ids=lambda s: s.value)
def test_disallowed_transitions_are_refused_and_change_nothing(
    make: Any, coordinator: User, db_session: Any, old: S, new: S
) -> None:
    cohort = make.cohort(capacity=None)
    enrolment = make_in_status(cohort, old, make)
    with pytest.raises(DomainError) as refused:
        services.change_status(enrolment, new, actor=coordinator)
    assert refused.value.message.startswith(
        f"An enrolment cannot go from {old.label} to {new.label}."
    )
    assert statuses(cohort, db_session)[enrolment.person_id][0] == old
    assert events(db_session, "enrolment.status") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [(old, new) for old, targets in services.TRANSITIONS.items() for new in targets],
    ids=lambda s: s.value,
)
def test_allowed_transitions_keep_the_waitlist_consistent(
    make: Any, coordinator: User, db_session: Any, old: S, new: S
) -> None:
    cohort = make.cohort(capacity=None)
    enrolment = make_in_status(cohort, old, make)
    services.change_status(enrolment, new, actor=coordinator)
    expected_position = 1 if new == S.WAITLISTED else None
    assert statuses(cohort, db_session)[enrolment.person_id] == (new, expected_position)


def test_enrolling_directly_into_a_full_cohort_is_refused(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = make.cohort(capacity=20)
    services.enrol_people(cohort.id, [make.person().id for _ in range(20)], actor=coordinator)
    applied = services.enrol(cohort.id, make.person().id, actor=coordinator, status=S.APPLIED)

    with pytest.raises(DomainError) as refused:
        services.change_status(applied, S.ENROLLED, actor=coordinator)

    assert refused.value.message == (
        "The cohort is full (20 of 20): put them on the waitlist or raise the capacity."
    )
    assert statuses(cohort, db_session)[applied.person_id] == (S.APPLIED, None)
    # The waitlist is still open to them.
    services.change_status(applied, S.WAITLISTED, actor=coordinator)
    assert statuses(cohort, db_session)[applied.person_id] == (S.WAITLISTED, 1)


def test_leaving_the_waitlist_closes_the_gap(make: Any, coordinator: User, db_session: Any) -> None:
    cohort = make.cohort(capacity=1)
    people = [make.person() for _ in range(5)]
    result = services.enrol_people(cohort.id, [p.id for p in people], actor=coordinator)
    enrolment_waitlist.withdraw(result.waitlisted[1], actor=coordinator)
    assert [e.waitlist_position for e in services.roster(cohort.id).waitlist] == [1, 2, 3]
    assert [e.person for e in services.roster(cohort.id).waitlist] == [
        people[1],
        people[3],
        people[4],
    ]


def test_every_status_change_is_in_the_audit_trail_with_who_and_what(
    small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    person = make.person(first_name="Şükrü", last_name="Yılmaz")
    enrolment = services.enrol(small.id, person.id, actor=coordinator)
    services.change_status(enrolment, S.COMPLETED, actor=coordinator)

    [created] = events(db_session, "enrolment.create")
    [changed] = events(db_session, "enrolment.status")
    assert (created.actor_id, created.object_type, created.object_id) == (
        coordinator.id,
        "enrolments",
        enrolment.id,
    )
    assert created.changes["status"] == [None, "enrolled"]
    assert changed.actor_id == coordinator.id
    assert changed.programme_id == small.programme_id
    assert changed.changes == {"status": ["enrolled", "completed"]}
    assert changed.summary == "Şükrü Yılmaz: enrolled -> completed"
    assert changed.at is not None

    assert services.history(small.id) == [changed, created]


def test_waitlist_reordering(make: Any, coordinator: User, db_session: Any) -> None:
    cohort = make.cohort(capacity=1)
    people = [make.person() for _ in range(4)]
    result = services.enrol_people(cohort.id, [p.id for p in people], actor=coordinator)
    last = result.waitlisted[-1]

    enrolment_waitlist.move_on_waitlist(last, -1, actor=coordinator)
    enrolment_waitlist.move_on_waitlist(last, -1, actor=coordinator)
    enrolment_waitlist.move_on_waitlist(last, -1, actor=coordinator)  # already first: stays

    waitlist = services.roster(cohort.id).waitlist
    assert [e.person for e in waitlist] == [people[3], people[1], people[2]]
    assert [e.waitlist_position for e in waitlist] == [1, 2, 3]
    [first, second] = events(db_session, "enrolment.waitlist")
    assert first.changes == {"waitlist_position": [3, 2]}
    assert second.changes == {"waitlist_position": [2, 1]}
    with pytest.raises(DomainError, match="not on the waitlist"):
        enrolment_waitlist.move_on_waitlist(result.enrolled[0], 1, actor=coordinator)


def test_enrolments_of_another_cohort_are_not_found(
    small: Cohort, make: Any, coordinator: User
) -> None:
    other = make.enrolment()
    with pytest.raises(NotFound):
        services.get_enrolment(small.id, other.id)
    with pytest.raises(NotFound):
        enrolment_waitlist.promote(small.id, actor=coordinator, enrolment_id=other.id)


# --------------------------------------------------------------------------- roster, search


def test_roster_groups_by_status_then_name(make: Any, coordinator: User) -> None:
    cohort = make.cohort(capacity=2)
    make.enrolment(cohort=cohort, person=make.person(first_name="Zoe", last_name="Adams"))
    make.enrolment(cohort=cohort, person=make.person(first_name="Ann", last_name="Young"))
    make.enrolment(
        cohort=cohort,
        person=make.person(last_name="Brown"),
        status=S.WAITLISTED,
        waitlist_position=2,
    )
    make.enrolment(
        cohort=cohort,
        person=make.person(last_name="White"),
        status=S.WAITLISTED,
        waitlist_position=1,
    )
    make.enrolment(cohort=cohort, person=make.person(last_name="Abbot"), status=S.WITHDRAWN)
    make.enrolment(cohort=cohort, person=make.person(last_name="Cole"), status=S.APPLIED)

    roster = services.roster(cohort.id)

    assert [e.person.last_name for e in roster.enrolments] == [
        "Adams",
        "Young",
        "Cole",
        "White",
        "Brown",
        "Abbot",
    ]
    assert roster.total == 6 and roster.active == 2
    assert roster.counts == {
        S.ENROLLED: 2,
        S.COMPLETED: 0,
        S.NOT_COMPLETED: 0,
        S.APPLIED: 1,
        S.WAITLISTED: 2,
        S.WITHDRAWN: 1,
    }


def test_roster_loads_in_two_queries_whatever_its_size(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    cohort = make.cohort(capacity=None)
    for _ in range(40):
        make.enrolment(cohort=cohort)
    db_session.expunge_all()
    with count_queries() as q:
        roster = services.roster(cohort.id)
        names = [e.person.full_name for e in roster.enrolments]
    assert len(names) == 40
    assert q.count == 2


def test_search_finds_names_in_any_script_and_shows_who_is_on_the_roster(
    small: Cohort, make: Any, coordinator: User
) -> None:
    leman = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.az")
    ivan = make.person(first_name="Иван", last_name="Петров")
    sukru = make.person(first_name="Şükrü", last_name="Yılmaz")
    make.person(first_name="Ləman", last_name="Merged", merged_into_id=leman.id)
    services.enrol(small.id, ivan.id, actor=coordinator)

    def found(query: str) -> list[Person]:
        return [c.person for c in services.search_people(small.id, query).candidates]

    assert found("aliyeva") == [leman]
    assert found("ƏLİYEVA") == [leman]
    assert found("петров") == [ivan]
    assert found("petrov ivan") == [ivan]
    assert found("yilmaz") == [sukru]
    assert found("leman@example") == [leman]
    assert found("%") == [] and found("_") == []
    assert found("   ") == []
    [candidate] = services.search_people(small.id, "petrov").candidates
    assert candidate.status == S.ENROLLED


def test_search_is_bounded(make: Any, db_session: Any) -> None:
    cohort = make.cohort()
    for _ in range(4):
        make.person(last_name="Mammadov")
    result = services.search_people(cohort.id, "mammadov", limit=3)
    assert len(result.candidates) == 3 and result.more


# --------------------------------------------------------------------------- views


def base(cohort: Cohort) -> str:
    return f"/cohorts/{cohort.id}/enrolments"


def test_coordinator_sees_roster_counts_and_history(
    client: FlaskClient, login: Any, small: Cohort, make: Any, coordinator: User
) -> None:
    enrol_four(small, make, coordinator)
    login(user=coordinator)

    page = client.get(base(small))

    assert page.status_code == 200
    text = page.text
    assert "2 of 2 seats taken, 0 left." in text
    assert 'data-status="waitlisted"' in text
    assert "place 2" in text
    assert "Ana Test" in text and "Dan Test" in text
    assert "added as Waitlisted" in text  # the history


def test_the_history_is_in_the_readers_time_zone_and_says_so(
    client: FlaskClient, login: Any, small: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    enrol_four(small, make, coordinator)
    coordinator.timezone = "America/Adak"  # not the cohort's zone
    db_session.flush()
    login(user=coordinator)

    text = client.get(base(small)).text.replace("\u00a0", " ")

    assert 'data-testid="history-zone"' in text
    zone = text.split('data-testid="history-zone">')[1].split("<")[0]
    assert zone.startswith("Times are in ") and "Hawaii" in zone  # Hawaii-Aleutian Time
    latest = db_session.scalars(
        sa.select(AuditEvent.at).where(AuditEvent.action == "enrolment.create")
    ).first()
    assert latest.astimezone(ZoneInfo("America/Adak")).strftime("%H:%M") in text


def test_search_then_enrol_the_people_ticked(
    client: FlaskClient, login: Any, small: Cohort, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    people = [make.person(first_name=n, last_name="Hüseynov") for n in ("Ali", "Aynur", "Elvin")]

    page = client.get(base(small), query_string={"q": "huseynov"})
    assert page.status_code == 200
    for p in people:
        assert f'name="person_ids" value="{p.id}"' in page.text

    response = client.post(
        base(small),
        data={"person_ids": [p.id for p in people], "status": "enrolled", "q": "huseynov"},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{base(small)}?q=huseynov")
    assert [s for s, _ in statuses(small, db_session).values()].count(S.WAITLISTED) == 1
    page = client.get(response.headers["Location"])
    assert "2 people enrolled. 1 put on the waitlist (place 1)." in page.text
    # Already on the roster: the boxes can no longer be ticked.
    assert page.text.count("disabled>") >= 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "enrolled"}, "Tick at least one person in the search results."),
        ({"person_ids": "abc", "status": "enrolled"}, "could not be read: search again."),
        ({"person_ids": "1", "status": "completed"}, "Not a valid choice"),
    ],
)
def test_bad_enrol_input_shows_a_message_and_writes_nothing(
    client: FlaskClient, login: Any, small: Cohort, db_session: Any, data: dict, message: str
) -> None:
    login(Role.COORDINATOR)
    response = client.post(base(small), data=data)
    assert response.status_code == 400
    assert message in response.text
    assert count_enrolments(db_session, small) == 0
    assert events(db_session, "enrolment.create") == []


def test_enrolling_one_person_twice_is_refused_with_a_message(
    client: FlaskClient, login: Any, small: Cohort, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    person = make.person(first_name="Иван", last_name="Петров")
    assert client.post(base(small), data={"person_ids": person.id}).status_code == 302

    response = client.post(base(small), data={"person_ids": person.id})

    assert response.status_code == 400
    assert "Иван Петров is already on this cohort&#39;s roster (Enrolled)." in response.text
    assert count_enrolments(db_session, small) == 1


def test_enrol_by_email(
    client: FlaskClient, login: Any, small: Cohort, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    person = make.person(email="ilkin@example.az", first_name="İlkin", last_name="Xudiyev")

    response = client.post(
        f"{base(small)}/by-email", data={"email": " Ilkin@Example.AZ ", "as_status": "applied"}
    )

    assert response.status_code == 302
    assert statuses(small, db_session) == {person.id: (S.APPLIED, None)}
    assert "İlkin Xudiyev added as Applied." in client.get(base(small)).text


def test_enrol_by_unknown_email_writes_nothing(
    client: FlaskClient, login: Any, small: Cohort, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    response = client.post(
        f"{base(small)}/by-email", data={"email": "nobody@example.org", "as_status": "enrolled"}
    )
    assert response.status_code == 400
    assert 'id="email-error"' in response.text
    assert "No one in the directory has the e-mail nobody@example.org." in response.text
    assert count_enrolments(db_session, small) == 0


def test_withdraw_offers_the_next_on_the_waitlist_and_one_click_promotes(
    client: FlaskClient, login: Any, by_hand: Cohort, make: Any, coordinator: User, db_session: Any
) -> None:
    ana, ben, cem, dan = enrol_four(by_hand, make, coordinator)
    login(user=coordinator)
    ana_id = services.roster(by_hand.id).by_id
    ana_enrolment = next(e for e in ana_id.values() if e.person == ana)

    page = client.post(
        f"{base(by_hand)}/{ana_enrolment.id}/withdraw", data={}, follow_redirects=True
    )

    assert page.status_code == 200
    assert "Ana Test has withdrawn." in page.text
    assert "A seat is free: enrol Cem Test from the waitlist?" in page.text
    cem_enrolment = next(e for e in ana_id.values() if e.person == cem)
    assert f'name="enrolment_id" value="{cem_enrolment.id}"' in page.text

    page = client.post(
        f"{base(by_hand)}/promote",
        data={"enrolment_id": cem_enrolment.id},
        follow_redirects=True,
    )

    assert "Cem Test is enrolled from the waitlist." in page.text
    assert "A seat is free" not in page.text
    assert statuses(by_hand, db_session)[cem.id] == (S.ENROLLED, None)
    assert statuses(by_hand, db_session)[dan.id] == (S.WAITLISTED, 1)
    [withdrawn, promoted] = events(db_session, "enrolment.status")
    assert withdrawn.changes["status"] == ["enrolled", "withdrawn"]
    assert promoted.changes["status"] == ["waitlisted", "enrolled"]
    assert withdrawn.actor_id == promoted.actor_id == coordinator.id


def test_change_status_and_refusal_messages(
    client: FlaskClient, login: Any, small: Cohort, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    enrolment = make.enrolment(cohort=small, person=make.person(first_name="Ana"))
    url = f"{base(small)}/{enrolment.id}/status"

    page = client.post(url, data={"status": "waitlisted"}, follow_redirects=True)
    assert "An enrolment cannot go from Enrolled to Waitlisted." in page.text
    assert 'class="alert alert-danger"' in page.text

    # The roster's status menu starts on "Change to…": submitting it unchanged changes nothing.
    roster = client.get(base(small)).text
    assert '<option value="" selected>Change to…</option>' in roster
    page = client.post(url, data={"status": ""}, follow_redirects=True)
    assert 'class="alert alert-danger"' in page.text
    assert statuses(small, db_session)[enrolment.person_id] == (S.ENROLLED, None)

    page = client.post(url, data={"status": "completed"}, follow_redirects=True)
    assert "Ana Person is now Completed." in page.text
    assert statuses(small, db_session)[enrolment.person_id] == (S.COMPLETED, None)
    assert len(events(db_session, "enrolment.status")) == 1


def test_actions_return_to_the_page_they_came_from_on_this_site_only(
    client: FlaskClient, login: Any, small: Cohort, make: Any
) -> None:
    login(Role.COORDINATOR)
    enrolment = make.enrolment(cohort=small)
    url = f"{base(small)}/{enrolment.id}/status"
    response = client.post(url, data={"status": "completed", "next": f"/cohorts/{small.id}"})
    assert response.headers["Location"] == f"/cohorts/{small.id}"
    response = client.post(url, data={"status": "not_completed", "next": "https://evil.example/"})
    assert response.headers["Location"] == base(small)


def test_waitlist_move_buttons(
    client: FlaskClient, login: Any, make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = make.cohort(capacity=1)
    people = [make.person() for _ in range(3)]
    result = services.enrol_people(cohort.id, [p.id for p in people], actor=coordinator)
    login(user=coordinator)
    last = result.waitlisted[-1]
    response = client.post(f"{base(cohort)}/{last.id}/move", data={"direction": "up"})
    assert response.status_code == 302
    assert statuses(cohort, db_session)[people[2].id] == (S.WAITLISTED, 1)
    assert statuses(cohort, db_session)[people[1].id] == (S.WAITLISTED, 2)


def routes(cohort_id: int, enrolment_id: int) -> list[tuple[str, str]]:
    prefix = f"/cohorts/{cohort_id}/enrolments"
    return [
        ("get", prefix),
        ("post", prefix),
        ("post", f"{prefix}/by-email"),
        ("post", f"{prefix}/promote"),
        ("post", f"{prefix}/{enrolment_id}/status"),
        ("post", f"{prefix}/{enrolment_id}/withdraw"),
        ("post", f"{prefix}/{enrolment_id}/move"),
    ]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_get_403_everywhere(
    client: FlaskClient, login: Any, make: Any, db_session: Any, role: Role
) -> None:
    enrolment = make.enrolment(
        cohort=make.cohort(capacity=1), status=S.WAITLISTED, waitlist_position=1
    )
    login(role)
    data = {"person_ids": enrolment.person_id, "status": "withdrawn", "direction": "up"}
    for method, url in routes(enrolment.cohort_id, enrolment.id):
        response = getattr(client, method)(url, data=data if method == "post" else None)
        assert response.status_code == 403, url
    assert statuses(enrolment.cohort, db_session)[enrolment.person_id] == (S.WAITLISTED, 1)


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, small: Cohort) -> None:
    response = client.get(base(small))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_unknown_cohorts_and_other_cohorts_enrolments_are_404(
    client: FlaskClient, login: Any, small: Cohort, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    other = make.enrolment(status=S.WAITLISTED, waitlist_position=1)
    data = {"status": "withdrawn", "direction": "up", "person_ids": other.person_id}
    for method, url in routes(10**9, other.id):
        assert getattr(client, method)(url, data=data).status_code == 404, url
    for _method, url in routes(small.id, other.id)[4:]:
        assert client.post(url, data=data).status_code == 404, url
    response = client.post(f"{base(small)}/promote", data={"enrolment_id": other.id})
    assert response.status_code == 404
    assert statuses(other.cohort, db_session)[other.person_id] == (S.WAITLISTED, 1)


def test_the_roster_page_runs_the_same_queries_for_3_and_150_enrolments(
    client: FlaskClient,
    login: Any,
    make: Any,
    coordinator: User,
    db_session: Any,
    count_queries: Any,
) -> None:
    login(user=coordinator)
    user_id = coordinator.id

    def queries(n: int) -> int:
        actor = db_session.get(User, user_id)
        cohort = make.cohort(capacity=n - 1)
        people = [make.person(last_name="Mammadova") for _ in range(n)]
        result = services.enrol_people(cohort.id, [p.id for p in people], actor=actor)
        enrolment_waitlist.withdraw(result.enrolled[0], actor=actor)
        url = base(cohort)
        db_session.commit()
        db_session.expunge_all()
        with count_queries() as q:
            page = client.get(url, query_string={"q": "mammadova"})
        assert page.status_code == 200
        assert page.text.count('data-testid="enrolment-') == min(n, services.ROSTER_PER_PAGE)
        return q.count

    few = queries(3)
    assert few == queries(150)
    # 14: the signed-in user and their sign-in, the roster's status counts, its page, the
    # first on the waitlist (a seat is free), the people named in the history, the
    # organisation name in the footer, and who can get in (access).
    assert few <= 14


def test_the_roster_partial_renders_on_another_page(
    app: Flask, small: Cohort, make: Any, coordinator: User
) -> None:
    enrol_four(small, make, coordinator)
    with app.test_request_context(f"/cohorts/{small.id}"):
        html = render_template_string(
            '{% include "enrolments/_roster.html" %}',
            roster=services.roster(small.id),
            cohort=small,
            roster_links=False,
            links={"programme": "/programmes/1"},
        )
    assert f'name="next" value="/cohorts/{small.id}"' in html
    assert "/people/" not in html
    assert f'href="/cohorts/{small.id}/enrolments">Enrol people</a>' in html
    assert "Dan Test" in html and "Move Dan Test up the waitlist" in html


# --------------------------------------------------------------------------- a long roster


@pytest.fixture
def long_roster(make: Any, coordinator: User, monkeypatch: pytest.MonkeyPatch) -> Cohort:
    """Seven people (pages of three): Ana..Gul Long enrolled, Hal and Ivo Wait on the
    waitlist (the cohort has 7 seats, one of them free once someone withdraws)."""
    monkeypatch.setattr(services, "ROSTER_PER_PAGE", 3)
    cohort = make.cohort(capacity=7, auto_fill_waitlist=False)
    for name in ("Ana", "Ben", "Cem", "Dan", "Eda", "Fil", "Gul", "Hal", "Ivo"):
        last = "Wait" if name in ("Hal", "Ivo") else "Long"
        services.enrol(
            cohort.id, make.person(first_name=name, last_name=last).id, actor=coordinator
        )
    return cohort


def shown(html: str) -> list[str]:
    """The first names on the roster table, in order."""
    import re

    return re.findall(r'<tr data-testid="enrolment-\d+">\s*<td>\s*<a[^>]*>(\w+) ', html)


def test_a_long_roster_is_shown_a_page_at_a_time_with_the_whole_cohorts_counts(
    client: FlaskClient, login: Any, long_roster: Cohort, coordinator: User
) -> None:
    login(user=coordinator)
    for url in (base(long_roster), f"/cohorts/{long_roster.id}"):
        first = client.get(url).text
        assert shown(first) == ["Ana", "Ben", "Cem"]
        assert "Showing 1–3 of 9" in first
        assert "7 of 7 seats taken, 0 left." in first
        assert 'data-status="waitlisted"' in first and 'name="who"' in first
        last = client.get(url, query_string={"roster_page": 3}).text
        assert shown(last) == ["Gul", "Hal", "Ivo"]
        assert "Showing 7–9 of 9" in last
        assert "roster_page=2#roster" in last  # the link to the previous page


def test_find_on_the_roster_searches_the_whole_cohort(
    client: FlaskClient, login: Any, long_roster: Cohort, coordinator: User
) -> None:
    login(user=coordinator)
    page = client.get(base(long_roster), query_string={"who": "fil"}).text
    assert shown(page) == ["Fil"]
    assert "Showing 1–1 of 1" in page
    page = client.get(base(long_roster), query_string={"who": "nobody"}).text
    assert "No one on the roster matches “nobody”." in page
    assert "Nobody is enrolled yet." not in page


def test_actions_from_a_later_page_come_back_to_it_and_offer_the_seat_freed(
    client: FlaskClient, login: Any, long_roster: Cohort, coordinator: User, db_session: Any
) -> None:
    login(user=coordinator)
    url = f"/cohorts/{long_roster.id}"
    page = client.get(url, query_string={"roster_page": 2}).text
    assert shown(page) == ["Dan", "Eda", "Fil"]
    assert f'name="next" value="{url}?roster_page=2"' in page
    eda = next(
        e for e in services.roster(long_roster.id).enrolments if e.person.first_name == "Eda"
    )

    response = client.post(
        f"{base(long_roster)}/{eda.id}/withdraw", data={"next": f"{url}?roster_page=2"}
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}?roster_page=2")
    page = client.get(response.headers["Location"]).text
    assert shown(page) == ["Dan", "Fil", "Gul"]
    # Hal, first on the waitlist, is on page 3 but offered the free seat on every page.
    assert "A seat is free: enrol Hal Wait from the waitlist?" in page
    assert statuses(long_roster, db_session)[eda.person_id] == (S.WITHDRAWN, None)
