"""Waitlists that fill themselves: freed or added seats go to the waitlist in order, audited,
the people told by e-mail, unless the coordinator turns it off for the cohort."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.test_cohorts import COHORT_FORM
from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts import services as cohorts
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.cohorts.models import EnrolmentStatus as S
from trainingmgr.enrolments import seats as enrolment_seats
from trainingmgr.enrolments import services
from trainingmgr.enrolments import waitlist as enrolment_waitlist
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage


@pytest.fixture
def coordinator(make: Any, db_session: Any) -> User:
    return make.user(Role.COORDINATOR)


def statuses(cohort: Cohort) -> dict[str, tuple[S, int | None]]:
    db.session.flush()
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    return {e.person.first_name: (e.status, e.waitlist_position) for e in rows}


def mail(kind: str) -> list[str]:
    db.session.flush()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.recipient)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
    )


def three_seated_four_waiting(make: Any, actor: User, **kw: Any) -> Cohort:
    """Capacity 3: Ana, Ben, Cem seated; Dan, Eda, Fil, Gul waiting in that order."""
    cohort = make.cohort(capacity=3, **kw)
    names = ("Ana", "Ben", "Cem", "Dan", "Eda", "Fil", "Gul")
    people = [make.person(first_name=n, email=f"{n.lower()}@example.org") for n in names]
    services.enrol_people(cohort.id, [p.id for p in people], actor=actor)
    return cohort


def test_raising_the_capacity_seats_the_whole_waitlist_in_order(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = three_seated_four_waiting(make, coordinator)
    assert mail("waitlist_place") == [f"{n}@example.org" for n in ("dan", "eda", "fil", "gul")]
    data = cohorts.cohort_input(cohort)
    data.capacity = 12

    promoted = cohorts.update_cohort(cohort, data, actor=coordinator)

    assert [e.person.first_name for e in promoted] == ["Dan", "Eda", "Fil", "Gul"]
    assert set(statuses(cohort).values()) == {(S.ENROLLED, None)}
    assert services.roster(cohort.id).counts[S.WAITLISTED] == 0
    assert mail("enrolment_confirmation")[-4:] == [
        f"{n}@example.org" for n in ("dan", "eda", "fil", "gul")
    ]
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == enrolment_seats.FILL_ACTION)
        .order_by(AuditEvent.id)
    ).all()
    assert [e.changes["waitlist_position"] for e in events] == [
        [1, None],
        [2, None],
        [3, None],
        [4, None],
    ]
    assert {e.actor_id for e in events} == {coordinator.id}


def test_a_capacity_raised_by_two_seats_the_first_two_and_moves_the_rest_up(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = three_seated_four_waiting(make, coordinator)
    data = cohorts.cohort_input(cohort)
    data.capacity = 5

    cohorts.update_cohort(cohort, data, actor=coordinator)

    got = statuses(cohort)
    assert (got["Dan"], got["Eda"]) == ((S.ENROLLED, None), (S.ENROLLED, None))
    assert (got["Fil"], got["Gul"]) == ((S.WAITLISTED, 1), (S.WAITLISTED, 2))


def test_a_withdrawal_gives_the_seat_to_the_first_waiting(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = three_seated_four_waiting(make, coordinator)
    ana = next(e for e in services.roster(cohort.id).enrolments if e.person.first_name == "Ana")

    done = enrolment_waitlist.withdraw(ana, actor=coordinator)

    assert [e.person.first_name for e in done.filled] == ["Dan"]
    assert done.offer is None
    got = statuses(cohort)
    assert got["Ana"] == (S.WITHDRAWN, None)
    assert got["Dan"] == (S.ENROLLED, None)
    assert [got[n] for n in ("Eda", "Fil", "Gul")] == [
        (S.WAITLISTED, 1),
        (S.WAITLISTED, 2),
        (S.WAITLISTED, 3),
    ]
    assert mail("enrolment_confirmation")[-1] == "dan@example.org"


def test_a_status_change_that_frees_a_seat_fills_it_too(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = three_seated_four_waiting(make, coordinator)
    ben = next(e for e in services.roster(cohort.id).enrolments if e.person.first_name == "Ben")

    services.change_status(ben, S.WITHDRAWN, actor=coordinator)

    assert statuses(cohort)["Dan"] == (S.ENROLLED, None)


def test_with_filling_turned_off_nothing_moves_and_the_coordinator_is_offered_the_seat(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = three_seated_four_waiting(make, coordinator, auto_fill_waitlist=False)
    ana = next(e for e in services.roster(cohort.id).enrolments if e.person.first_name == "Ana")

    done = enrolment_waitlist.withdraw(ana, actor=coordinator)
    data = cohorts.cohort_input(cohort)
    data.capacity = 4
    promoted = cohorts.update_cohort(cohort, data, actor=coordinator)

    assert done.filled == [] and done.offer is not None and done.offer.person.first_name == "Dan"
    assert promoted == []
    assert statuses(cohort)["Dan"] == (S.WAITLISTED, 1)
    assert mail("enrolment_confirmation") == [f"{n}@example.org" for n in ("ana", "ben", "cem")]


def test_newcomers_take_free_seats_left_over_after_the_waitlist(
    make: Any, coordinator: User, db_session: Any
) -> None:
    # Filling turned off: 10 seats, 2 taken, 1 waiting (a seat is kept for them).
    cohort = make.cohort(capacity=10, auto_fill_waitlist=False)
    services.enrol_people(cohort.id, [make.person().id for _ in range(2)], actor=coordinator)
    waiting = services.enrol(cohort.id, make.person().id, actor=coordinator, status=S.APPLIED)
    services.change_status(waiting, S.WAITLISTED, actor=coordinator)

    newcomer = services.enrol(cohort.id, make.person(first_name="Newt").id, actor=coordinator)

    assert (newcomer.status, newcomer.waitlist_position) == (S.ENROLLED, None)


def test_enrolling_into_a_cohort_that_fills_itself_seats_those_waiting_first(
    make: Any, coordinator: User, db_session: Any
) -> None:
    cohort = make.cohort(capacity=2, auto_fill_waitlist=False)
    services.enrol_people(
        cohort.id,
        [make.person(first_name=n).id for n in ("Ana", "Ben", "Cem")],
        actor=coordinator,
    )
    cohort.capacity = 3  # raised while filling was off
    cohort.auto_fill_waitlist = True

    newcomer = services.enrol(cohort.id, make.person(first_name="Dan").id, actor=coordinator)

    got = statuses(cohort)
    assert got["Cem"] == (S.ENROLLED, None)
    assert newcomer.status == S.WAITLISTED and got["Dan"] == (S.WAITLISTED, 1)


def test_the_cohort_form_turns_filling_off_and_raising_capacity_says_who_got_a_seat(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.COORDINATOR)
    cohort = three_seated_four_waiting(make, me, name="RTCM roll-out Ganja")
    page = client.get(f"/cohorts/{cohort.id}/edit").text
    assert 'name="auto_fill_waitlist"' in page and "checked" in page

    form = {**COHORT_FORM, "capacity": "12", "auto_fill_waitlist": "y"}
    page = client.post(f"/cohorts/{cohort.id}/edit", data=form, follow_redirects=True).text

    names = ", ".join(
        e.person.full_name
        for e in sorted(services.roster(cohort.id).enrolments, key=lambda e: e.id)[3:]
    )
    assert names.startswith("Dan ")
    assert f"{names} took free seats from the waitlist and were told by e-mail." in page
    assert services.roster(cohort.id).counts[S.WAITLISTED] == 0

    form = {**COHORT_FORM, "capacity": "12"}  # the box unticked
    client.post(f"/cohorts/{cohort.id}/edit", data=form)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).auto_fill_waitlist is False


def test_withdrawing_on_the_roster_says_who_took_the_seat(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.COORDINATOR)
    cohort = three_seated_four_waiting(make, me)
    ana = next(e for e in services.roster(cohort.id).enrolments if e.person.first_name == "Ana")

    page = client.post(
        f"/cohorts/{cohort.id}/enrolments/{ana.id}/withdraw", data={}, follow_redirects=True
    ).text

    dan = next(e for e in services.roster(cohort.id).enrolments if e.person.first_name == "Dan")
    assert (
        f"{dan.person.full_name} took a free seat from the waitlist and was told by e-mail." in page
    )
    assert "A seat is free" not in page


def test_filling_takes_a_fixed_number_of_queries(
    make: Any, coordinator: User, db_session: Any, count_queries: Any
) -> None:
    small = three_seated_four_waiting(make, coordinator)
    big = make.cohort(capacity=3)
    services.enrol_people(big.id, [make.person().id for _ in range(30)], actor=coordinator)
    counts = []
    for cohort in (small, big):
        cohort.capacity = 100
        db.session.flush()
        with count_queries() as q:
            enrolment_seats.fill_waitlist(cohort.id, actor=coordinator)
        counts.append(q.count)
    assert counts[0] == counts[1]
