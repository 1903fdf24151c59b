"""The participant's home page (/me): cohorts, schedule, attendance, progress, certificates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.summary import attendance_summary
from trainingmgr.certificates import services as certificates
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import DeliveryMode, EnrolmentStatus, SessionStatus
from trainingmgr.home import services

P, L, A, E = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', html, re.S)
    assert match, f"no element with data-testid={testid}"
    return match.group(0)


def _rows(html: str, testid: str) -> list[str]:
    return [_text(r) for r in re.findall(r"<li[^>]*>(.*?)</li>", _section(html, testid), re.S)]


def _day(days: int, hour: int = 6) -> datetime:
    """``days`` from today at ``hour``:00 UTC."""
    today = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, 0, tzinfo=UTC)


def _today(days: int = 0) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def _sessions(make: Any, cohort: Any, days: list[int], **kw: Any) -> list[Any]:
    return [
        make.session(cohort=cohort, starts_at=_day(d), ends_at=_day(d, 9), title=f"Day {d}", **kw)
        for d in days
    ]


def test_schedule_splits_upcoming_and_past_with_each_attendance(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT)
    trainer = make.person(first_name="Şükrü", last_name="Yılmaz")
    cohort = make.cohort(
        name="RTCM roll-out Ganja",
        timezone="Asia/Baku",
        venue="Ganja State University",
        city="Ganja",
        start_date=_today(-10),
        end_date=_today(10),
        online_url="https://meet.example.org/ganja",
    )
    enrolment = make.enrolment(cohort=cohort, person=me.person)
    titles = ["Readmission", "Legal mobility", "Smuggling", "Protection", "Development"]
    past = []
    for i, title in enumerate(titles):
        s = make.session(cohort=cohort, title=title, starts_at=_day(i - 8), ends_at=_day(i - 8, 9))
        s.trainers.append(trainer)
        past.append(s)
    for s, status in zip(past, [P, L, A, E], strict=False):
        make.attendance(s, enrolment, status)
    make.attendance(past[4], make.enrolment(cohort=cohort))  # held; not recorded for me
    make.session(
        cohort=cohort,
        title="Dropped",
        starts_at=_day(-2),
        ends_at=_day(-2, 9),
        status=SessionStatus.CANCELLED,
    )
    make.session(cohort=cohort, title="Global Compact", starts_at=_day(1), ends_at=_day(1, 9))
    make.session(
        cohort=cohort,
        title="Called off",
        starts_at=_day(2),
        ends_at=_day(2, 9),
        status=SessionStatus.CANCELLED,
    )
    make.session(
        cohort=cohort,
        title="Online review",
        starts_at=_day(3),
        ends_at=_day(3, 9),
        mode=DeliveryMode.ONLINE,
    )

    html = client.get("/me").text

    card = _text(_section(html, f"cohort-{cohort.id}"))
    assert "RTCM roll-out Ganja" in card and "Ganja State University, Ganja" in card
    zone = _text(_section(html, f"zone-{cohort.id}"))
    assert "Times are shown in Asia/Baku." in zone and "the cohort's time zone" in zone
    upcoming = _rows(html, f"upcoming-{cohort.id}")
    assert "10:00–13:00" in upcoming[0] and "Global Compact" in upcoming[0]
    assert upcoming[0].endswith("Next")
    assert "Called off" in upcoming[1] and upcoming[1].endswith("Cancelled")
    assert "Online review" in upcoming[2] and "Join online" in upcoming[2]
    assert 'href="https://meet.example.org/ganja"' in _section(html, f"upcoming-{cohort.id}")
    rows = _rows(html, f"past-{cohort.id}")
    assert [r.rsplit(" ", 1)[-1] for r in rows] == [
        "Present",
        "Late",
        "Absent",
        "Excused",
        "recorded",  # "Not recorded"
        "Cancelled",
    ]
    assert rows[4].endswith("Not recorded")
    assert "Şükrü Yılmaz" in rows[0] and "Readmission" in rows[0]
    # The next session is on top of the page.
    banner = _text(_section(html, "next-session"))
    assert "Global Compact" in banner and "10:00–13:00" in banner and "Asia/Baku" in banner


def test_progress_against_the_completion_rule_in_words(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT)
    programme = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    law = make.module(programme, code="LAW", title="International migration law")
    gcm = make.module(programme, code="GCM", title="Global Compact for Migration")
    cohort = make.cohort(
        programme,
        min_attendance_pct=80,
        min_hours=Decimal("50"),
        start_date=_today(-30),
        end_date=_today(-1),
    )
    cohort.required_modules.extend([law, gcm])
    enrolment = make.enrolment(cohort=cohort, person=me.person)
    sessions = _sessions(make, cohort, list(range(-25, -5)))  # 20 sessions of 3 hours
    sessions[0].module = law
    sessions[1].module = gcm
    statuses = [P] * 12 + [L] * 2 + [A] * 6
    statuses[0], statuses[1], statuses[-1] = A, P, P  # LAW missed
    for s, status in zip(sessions, statuses, strict=True):
        make.attendance(s, enrolment, status)

    html = client.get("/me").text

    progress = _text(_section(html, f"progress-{cohort.id}"))
    assert "You do not yet meet what is needed to complete this training." in progress
    assert "Not yet You have attended 14 of 20 sessions (70%); 80% is needed." in progress
    assert "Not yet You have attended 42 hours; 50 are needed." in progress
    assert (
        "Not yet Module LAW International migration law is required: "
        "you have not attended it yet." in progress
    )
    assert (
        "Met Module GCM Global Compact for Migration is required: you have attended it." in progress
    )


def test_a_training_completed_without_every_requirement_does_not_say_not_yet(
    client: FlaskClient, login: Any, make: Any
) -> None:
    """A coordinator may record a training as completed (a certificate issued anyway): the
    page says so, and the requirements read "Not met" rather than "Not yet"."""
    me = login(Role.PARTICIPANT)
    cohort = make.cohort(min_attendance_pct=80, start_date=_today(-30), end_date=_today(-1))
    enrolment = make.enrolment(cohort=cohort, person=me.person, status=EnrolmentStatus.COMPLETED)
    for s, status in zip(
        _sessions(make, cohort, [-9, -8, -7, -6, -5]), [P, P, P, A, A], strict=True
    ):
        make.attendance(s, enrolment, status)

    progress = _text(_section(client.get("/me").text, f"progress-{cohort.id}"))

    assert "You have completed this training. Your coordinator recorded it as completed" in progress
    assert "Not met You have attended 3 of 5 sessions (60%); 80% is needed." in progress
    assert "Not yet" not in progress


def test_progress_counts_excused_sessions_out_and_says_when_the_rule_is_met(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT)
    cohort = make.cohort(min_attendance_pct=75, start_date=_today(-30), end_date=_today(5))
    enrolment = make.enrolment(cohort=cohort, person=me.person)
    for s, status in zip(
        _sessions(make, cohort, [-9, -8, -7, -6, -5]), [P, P, L, E, A], strict=True
    ):
        make.attendance(s, enrolment, status)

    progress = _text(_section(client.get("/me").text, f"progress-{cohort.id}"))

    assert "So far you meet what is needed to complete this training." in progress
    assert (
        "Met You have attended 3 of 4 sessions (75%) (1 excused session not counted); "
        "75% is needed." in progress
    )
    assert "Hours attended: 9." in progress


def test_a_new_enrolment_has_no_attendance_yet(client: FlaskClient, login: Any, make: Any) -> None:
    me = login(Role.PARTICIPANT)
    cohort = make.cohort(start_date=_today(3), end_date=_today(5))
    make.enrolment(cohort=cohort, person=me.person)
    _sessions(make, cohort, [3, 4])
    html = client.get("/me").text
    progress = _text(_section(html, f"progress-{cohort.id}"))
    assert "Not yet No attendance has been recorded for you yet; 80% is needed." in progress
    assert f'data-testid="past-{cohort.id}"' not in html


def test_enrolment_statuses_and_the_waiting_list(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT)
    done = make.cohort(name="Done cohort", start_date=_today(-60), end_date=_today(-50))
    failed = make.cohort(name="Failed cohort", start_date=_today(-40), end_date=_today(-30))
    waiting = make.cohort(name="Waiting cohort", start_date=_today(20), end_date=_today(25))
    left = make.cohort(name="Left cohort")
    make.enrolment(cohort=done, person=me.person, status=EnrolmentStatus.COMPLETED)
    make.enrolment(cohort=failed, person=me.person, status=EnrolmentStatus.NOT_COMPLETED)
    make.enrolment(
        cohort=waiting, person=me.person, status=EnrolmentStatus.WAITLISTED, waitlist_position=3
    )
    make.enrolment(cohort=left, person=me.person, status=EnrolmentStatus.WITHDRAWN)
    _sessions(make, waiting, [20, 21])

    html = client.get("/me").text

    assert _text(_section(html, f"enrolment-status-{done.id}")) == "Completed"
    assert "You have completed this training." in _text(_section(html, f"progress-{done.id}"))
    assert _text(_section(html, f"enrolment-status-{failed.id}")) == "Not completed"
    assert "This training was not completed." in _text(_section(html, f"progress-{failed.id}"))
    assert _text(_section(html, f"enrolment-status-{waiting.id}")) == "Waitlisted"
    assert "You are on the waiting list (number 3)." in _text(
        _section(html, f"waitlisted-{waiting.id}")
    )
    assert f'data-testid="progress-{waiting.id}"' not in html
    waiting_rows = _rows(html, f"upcoming-{waiting.id}")
    assert len(waiting_rows) == 2 and not any(r.endswith("Next") for r in waiting_rows)
    assert "next-session" not in html  # a waiting list place is not a session to attend
    assert "Left cohort" not in html
    # Newest cohorts first.
    positions = [html.index(f'data-testid="cohort-{c.id}"') for c in (waiting, failed, done)]
    assert positions == sorted(positions)


def test_times_follow_the_participants_own_time_zone(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT, timezone="America/New_York")
    cohort = make.cohort(timezone="Asia/Baku", start_date=_today(-1), end_date=_today(30))
    make.enrolment(cohort=cohort, person=me.person)
    starts = datetime(2027, 1, 12, 6, 0, tzinfo=UTC)
    make.session(cohort=cohort, starts_at=starts, ends_at=starts + timedelta(hours=3))

    html = client.get("/me").text

    zone = _text(_section(html, f"zone-{cohort.id}"))
    assert "Times are shown in America/New_York." in zone and "your time zone" in zone
    assert "01:00–04:00" in _rows(html, f"upcoming-{cohort.id}")[0]
    assert 'href="/me/profile"' in _section(html, f"zone-{cohort.id}")


def test_an_unknown_stored_zone_falls_back_to_the_cohorts(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT, timezone="Mars/Olympus")
    cohort = make.cohort(timezone="Asia/Baku", start_date=_today(-1), end_date=_today(30))
    make.enrolment(cohort=cohort, person=me.person)
    html = client.get("/me").text
    assert "Times are shown in Asia/Baku." in _text(_section(html, f"zone-{cohort.id}"))


def _certified(make: Any, person: Any, name: str) -> Any:
    cohort = make.cohort(name=name, start_date=_today(-20), end_date=_today(-10))
    enrolment = make.enrolment(cohort=cohort, person=person)
    make.attendance(_sessions(make, cohort, [-15])[0], enrolment, P)
    return enrolment


def test_certificates_valid_downloadable_revoked_and_superseded_shown_as_such(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.PARTICIPANT)
    coordinator = make.user(Role.COORDINATOR)
    valid = certificates.issue(_certified(make, me.person, "Valid cohort"), actor=coordinator)
    revoked = certificates.issue(_certified(make, me.person, "Revoked cohort"), actor=coordinator)
    certificates.revoke(revoked, "Issued by mistake", actor=coordinator)
    old = certificates.issue(_certified(make, me.person, "Corrected cohort"), actor=coordinator)
    new = certificates.reissue(old, reason="Name misspelt", actor=coordinator)
    db_session.flush()

    html = client.get("/me").text

    def card(cert: Any) -> str:
        return _section(html, f"certificate-{cert.id}")

    assert _text(card(valid)).startswith(f"Valid No. {valid.serial}, issued ")
    assert f'href="/certificates/{valid.id}.pdf"' in card(valid)
    verify = f"https://training.example.org/verify/{valid.verification_code}"
    assert f'href="{verify}"' in card(valid)
    assert _text(card(revoked)).startswith(f"Revoked No. {revoked.serial}")
    assert "was revoked on" in card(revoked) and "Download PDF" not in card(revoked)
    assert f"/verify/{revoked.verification_code}" in card(revoked)
    assert _text(card(old)).startswith(f"Superseded No. {old.serial}")
    assert "replaced by a corrected one" in card(old) and "Download PDF" not in card(old)
    assert f'href="/certificates/{new.id}.pdf"' in card(new)
    corrected = _section(html, f"certificates-{new.enrolment.cohort_id}")
    assert corrected.index(new.serial) < corrected.index(old.serial)  # newest first


def test_the_pdf_link_gives_only_the_participants_own_valid_certificate(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.PARTICIPANT)
    other = make.user(Role.PARTICIPANT)
    coordinator = make.user(Role.COORDINATOR)
    mine = certificates.issue(_certified(make, me.person, "Mine"), actor=coordinator)
    revoked = certificates.issue(_certified(make, me.person, "Revoked"), actor=coordinator)
    certificates.revoke(revoked, "Issued by mistake", actor=coordinator)
    theirs = certificates.issue(_certified(make, other.person, "Theirs"), actor=coordinator)
    db_session.flush()

    html = client.get("/me").text
    href = re.search(rf'href="([^"]+)" data-testid="download-{mine.id}"', html).group(1)
    response = client.get(href)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    for certificate in (theirs, revoked):
        assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 404


def test_nothing_of_other_participants_is_shown(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.PARTICIPANT)
    other = make.user(Role.PARTICIPANT)
    shared = make.cohort(name="Shared cohort", start_date=_today(-20), end_date=_today(-10))
    mine = make.enrolment(cohort=shared, person=me.person)
    theirs = make.enrolment(cohort=shared, person=other.person)
    [session] = _sessions(make, shared, [-15])
    make.attendance(session, mine, A)
    make.attendance(session, theirs, P)
    their_certificate = certificates.issue(theirs, actor=make.user())
    solo = make.cohort(name="Their own cohort")
    make.enrolment(cohort=solo, person=other.person)
    db_session.flush()

    html = client.get(f"/me?person_id={other.person_id}&user_id={other.id}").text

    assert _rows(html, f"past-{shared.id}")[0].endswith("Absent")
    assert "Their own cohort" not in html
    assert their_certificate.serial not in html
    assert their_certificate.verification_code not in html
    assert other.person.full_name not in html


def test_an_account_without_a_person_record_is_told_it_has_no_cohorts(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT)
    user.person = None
    db_session.flush()
    login(user=user)
    assert "You are not enrolled in any cohort yet." in client.get("/me").text


def _cohort_with_sessions(make: Any, person: Any, n_sessions: int = 40) -> None:
    cohort = make.cohort(min_hours=Decimal("10"), start_date=_today(-30), end_date=_today(30))
    cohort.required_modules.append(make.module(cohort.programme))
    enrolment = make.enrolment(cohort=cohort, person=person)
    trainer = make.person()
    for i in range(n_sessions):
        s = make.session(cohort=cohort, starts_at=_day(i - 20), ends_at=_day(i - 20, 8))
        s.trainers.append(trainer)
        if i < 20:
            make.attendance(s, enrolment, (P, L, A, E)[i % 4])
    certificates.issue(
        enrolment, override_reason="Tested", confirm_before_end=True, actor=make.user()
    )


def test_the_page_runs_the_same_number_of_queries_for_1_and_5_cohorts(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    me = login(Role.PARTICIPANT)
    counts = []
    for n in (1, 4):  # 1 cohort, then 5 cohorts of 40 sessions
        for _ in range(n):
            _cohort_with_sessions(make, me.person)
        with count_queries() as q:
            response = client.get("/me")
        assert response.status_code == 200
        assert response.text.count('data-testid="session-') == 40 * (1 if n == 1 else 5)
        counts.append(q.count)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    "statuses",
    [
        [P, P, P, P],
        [P, A, A, A],
        [E, E, P, A],
        [L, P, None, E],
        [None, None, None, None],
    ],
)
def test_progress_agrees_with_the_attendance_summary_and_eligibility(
    make: Any, db_session: Any, statuses: list[AttendanceStatus | None]
) -> None:
    person = make.person()
    programme = make.programme()
    module = make.module(programme)
    cohort = make.cohort(programme, min_attendance_pct=75, min_hours=Decimal("6"))
    cohort.required_modules.append(module)
    enrolment = make.enrolment(cohort=cohort, person=person)
    someone = make.enrolment(cohort=cohort)
    sessions = _sessions(make, cohort, [-9, -8, -7, -6])
    sessions[2].module = module
    cancelled = _sessions(make, cohort, [-5], status=SessionStatus.CANCELLED)[0]
    make.attendance(cancelled, enrolment, P)  # a cancelled session never counts
    for s, status in zip(sessions, statuses, strict=True):
        make.attendance(s, someone, P)
        if status is not None:
            make.attendance(s, enrolment, status)

    [item] = services.participant_overview(person.id).cohorts

    assert item.progress is not None
    assert item.progress.summary == attendance_summary(cohort.id, [enrolment.id])[enrolment.id]
    assert item.progress.met == eligibility(cohort.id, [enrolment.id])[enrolment.id].eligible


def test_the_cohort_running_now_comes_first(client: FlaskClient, login: Any, make: Any) -> None:
    me = login(Role.PARTICIPANT)
    later = make.cohort(name="March 2027", start_date=_today(100), end_date=_today(104))
    soon = make.cohort(name="Next month", start_date=_today(30), end_date=_today(34))
    now = make.cohort(name="Running today", start_date=_today(-2), end_date=_today(2))
    over = make.cohort(name="Last year", start_date=_today(-300), end_date=_today(-296))
    for cohort in (later, soon, now, over):
        make.enrolment(cohort=cohort, person=me.person)

    html = client.get("/me").text

    positions = [html.index(f'data-testid="cohort-{c.id}"') for c in (now, soon, later, over)]
    assert positions == sorted(positions)
