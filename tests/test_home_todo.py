"""Homes that lead with what needs doing: the coordinator's "What needs doing" (in their
programmes, bounded queries) and the trainer's missing attendance, then today, then later."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.test_mail_pages import message
from trainingmgr.accounts.models import Role
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.home import todo
from trainingmgr.mail.models import OutboxStatus


def _today(days: int = 0) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def _at(days: int, hour: int = 5) -> datetime:
    day = _today(days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', html, re.S)
    assert match, f"no element with data-testid={testid}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def a_programme_with_work(make: Any, code: str) -> dict[str, Any]:
    """One of everything that needs doing, in a new programme."""
    programme = make.programme(code=code)
    running = make.cohort(
        programme, name=f"{code} running", start_date=_today(-5), end_date=_today(5), capacity=3
    )
    running.auto_fill_waitlist = False
    make.enrolment(running, make.person(email=None))  # no address
    make.enrolment(running)
    make.enrolment(running, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    missing = make.session(running, title=f"{code} missing", starts_at=_at(-2), ends_at=_at(-2, 8))
    over = make.cohort(
        programme,
        name=f"{code} over",
        start_date=_today(-40),
        end_date=_today(-30),
        min_attendance_pct=80,
    )
    held = make.session(over, title=f"{code} held", starts_at=_at(-35), ends_at=_at(-35, 8))
    for _ in range(2):
        make.attendance(held, make.enrolment(over))  # eligible, no certificate
    message(status=OutboxStatus.FAILED, programme_id=programme.id)
    return {"programme": programme, "running": running, "over": over, "missing": missing}


def test_the_dashboard_leads_with_what_needs_doing_in_the_coordinators_programmes(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    mine = a_programme_with_work(make, "MINE")
    theirs = a_programme_with_work(make, "THEIRS")
    login(Role.COORDINATOR, programmes=[mine["programme"]])

    html = client.get("/dashboard").text

    assert html.index('data-testid="todo"') < html.index('data-testid="programmes"')
    assert "THEIRS" not in _section(html, "todo")
    assert _section(html, "todo-attendance").startswith(
        "1 session of the last 30 days is missing attendance MINE missing"
    )
    running, over = mine["running"], mine["over"]
    assert (
        _section(html, f"todo-certificates-{over.id}")
        == "2 eligible for a certificate, not issued: MINE over"
    )
    assert f'href="/cohorts/{over.id}/certificates"' in html
    assert (
        _section(html, f"todo-seats-{running.id}")
        == "1 free seat with people on the waitlist: MINE running"
    )
    assert _section(html, "todo-mail") == "1 e-mail could not be delivered"
    assert 'href="/messages?status=failed"' in html
    assert (
        _section(html, f"todo-no-email-{running.id}")
        == "1 person with no e-mail address: MINE running"
    )
    assert f"todo-seats-{theirs['running'].id}" not in html


def test_sessions_missing_attendance_are_those_of_the_last_30_days(
    make: Any, db_session: Any
) -> None:
    cohort = make.cohort(start_date=_today(-60), end_date=_today(5))
    make.enrolment(cohort)
    now = datetime.now(UTC)
    inside = make.session(
        cohort,
        starts_at=now - timedelta(days=29, hours=3),
        ends_at=now - timedelta(days=29, hours=1),
    )
    make.session(
        cohort,
        starts_at=now - timedelta(days=30, hours=3),
        ends_at=now - timedelta(days=30, hours=1),
    )
    found = todo.coordinator_todo(None, now=now)
    assert found.missing_attendance == 1
    assert [s.id for s in found.missing_sessions] == [inside.id]


def test_records_of_people_who_left_do_not_complete_a_session(make: Any, db_session: Any) -> None:
    cohort = make.cohort(start_date=_today(-10), end_date=_today(5))
    now = datetime.now(UTC)
    session = make.session(
        cohort,
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=2) + timedelta(hours=2),
    )
    make.attendance(session, make.enrolment(cohort))
    make.attendance(session, make.enrolment(cohort, status=EnrolmentStatus.WITHDRAWN))
    waiting_for = make.enrolment(cohort)  # active, not recorded
    assert todo.coordinator_todo(None, now=now).missing_attendance == 1
    make.attendance(session, waiting_for)
    assert todo.coordinator_todo(None, now=now).missing_attendance == 0


def test_nothing_to_do_says_so(client: FlaskClient, login: Any, make: Any, db_session: Any) -> None:
    login(Role.COORDINATOR, programmes=[make.programme()])
    html = client.get("/dashboard").text
    assert "Nothing needs doing" in _section(html, "todo-none")


def test_what_needs_doing_takes_a_bounded_number_of_queries(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    a_programme_with_work(make, "ONE")
    with count_queries() as one:
        small = todo.coordinator_todo(None)
    for n in range(5):
        a_programme_with_work(make, f"MORE{n}")
    with count_queries() as many:
        big = todo.coordinator_todo(None)
    assert small.missing_attendance == 1 and big.missing_attendance == 6
    assert len(big.missing_sessions) == todo.SHOWN
    # Eligibility is checked for at most ENDED_COHORTS_CHECKED cohorts; everything else is
    # one query per item whatever the number of cohorts.
    per_cohort = (many.count - one.count) / 5
    assert per_cohort <= 8
    assert many.count <= 6 + todo.ENDED_COHORTS_CHECKED * 8


def test_the_trainer_sees_missing_attendance_first_then_today_then_later(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.TRAINER)
    cohort = make.cohort(timezone="UTC", start_date=_today(-10), end_date=_today(40))
    make.enrolment(cohort)
    sessions = {
        "Later": make.session(cohort, title="Later", starts_at=_at(3), ends_at=_at(3, 8)),
        "Today": make.session(cohort, title="Today", starts_at=_at(0, 0), ends_at=_at(0, 23)),
        "Missing": make.session(cohort, title="Missing", starts_at=_at(-3), ends_at=_at(-3, 8)),
    }
    for session in sessions.values():
        session.trainers.append(me.person)
    for n in range(20):  # many upcoming sessions do not push missing attendance down
        extra = make.session(
            cohort, title=f"Extra {n}", starts_at=_at(4 + n), ends_at=_at(4 + n, 8)
        )
        extra.trainers.append(me.person)

    html = client.get("/trainer").text

    assert "Missing" in _section(html, "past-sessions")
    assert "Today" in _section(html, "today-sessions")
    assert "Later" in _section(html, "upcoming-sessions")
    assert "Today" not in _section(html, "upcoming-sessions")
    order = [
        html.index(f'data-testid="{t}"')
        for t in ("past-sessions", "today-sessions", "upcoming-sessions")
    ]
    assert order == sorted(order)


def test_the_dashboard_page_takes_the_same_queries_with_more_to_do(
    client: FlaskClient, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    a_programme_with_work(make, "ONE")
    login(Role.COORDINATOR)
    client.get("/dashboard")  # warm up (sign-in bookkeeping)
    with count_queries() as one:
        assert client.get("/dashboard").status_code == 200
    for n in range(4):
        a_programme_with_work(make, f"MORE{n}")
    with count_queries() as five:
        page = client.get("/dashboard").text
    assert _section(page, "todo-attendance").startswith(
        "5 sessions of the last 30 days are missing attendance"
    )
    # Only the certificate check grows, with the (capped) number of ended cohorts.
    assert five.count - one.count <= 4 * 8
