"""The e-mails about training: who gets which message, when, in which language, with what
in it; and a fixed number of queries however many people receive one."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa

from tests.mail_fixtures import course, first_day
from trainingmgr.accounts.models import Role
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts import sessions as session_services
from trainingmgr.cohorts.models import EnrolmentStatus, Session
from trainingmgr.core.types import utcnow
from trainingmgr.enrolments import services as enrolments
from trainingmgr.enrolments import waitlist as enrolment_waitlist
from trainingmgr.extensions import db
from trainingmgr.mail import deferred, delivery, notify, recipients
from trainingmgr.mail.models import OutboxMessage

S = EnrolmentStatus


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    db.session.flush()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def text_of(row: OutboxMessage) -> str:
    return str(delivery.parse(row.message).get_body(("plain",)).get_content())


def html_of(row: OutboxMessage) -> str:
    return str(delivery.parse(row.message).get_body(("html",)).get_content())


def calendar_of(row: OutboxMessage) -> icalendar.Calendar:
    [attachment] = list(delivery.parse(row.message).iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.get_payload(decode=True))


def sessions_of(cohort: Any) -> list[Session]:
    return list(
        db.session.scalars(
            sa.select(Session).where(Session.cohort_id == cohort.id).order_by(Session.starts_at)
        )
    )


# --------------------------------------------------------------------------- enrolment


@pytest.mark.parametrize("language", ["en", "ru", "az"])
def test_enrolling_someone_queues_a_confirmation_in_the_cohorts_language(
    db_session: Any, make: Any, language: str
) -> None:
    first_session = f"{first_day(language)}, 09:00–12:00"  # the day in the cohort's language
    cohort = course(make, language=language)
    person = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")

    enrolments.enrol(cohort.id, person.id, actor=None)

    [row] = outbox()
    assert row.kind == "enrolment_confirmation"
    assert row.recipient == "leman@example.org"
    assert (row.programme_id, row.cohort_id) == (cohort.programme_id, cohort.id)
    text, html = text_of(row), html_of(row)
    assert f"{first_session}: Day 1" in text
    assert first_session in html
    assert f'<html lang="{language}">' in html
    assert "Bakı 2030" in row.subject
    events = calendar_of(row).walk("VEVENT")
    assert len(events) == 3


def test_only_people_who_get_a_seat_and_have_an_address_are_told(
    db_session: Any, make: Any
) -> None:
    cohort = course(make, capacity=2)
    seated = make.person(email="seated@example.org")
    no_email = make.person(email=None)
    waiting = make.person(email="waiting@example.org")
    applicant = make.person(email="applicant@example.org")

    result = enrolments.enrol_people(cohort.id, [seated.id, no_email.id, waiting.id], actor=None)
    enrolments.enrol(cohort.id, applicant.id, actor=None, status=S.APPLIED)

    assert [e.person_id for e in result.waitlisted] == [waiting.id]
    assert [r.recipient for r in outbox("enrolment_confirmation")] == ["seated@example.org"]
    # The one waitlisted is told their place instead.
    [place] = outbox("waitlist_place")
    assert place.recipient == "waiting@example.org"
    assert "You are on its waitlist, in place 1." in text_of(place)


def test_a_promotion_from_the_waitlist_is_confirmed(db_session: Any, make: Any) -> None:
    cohort = course(make, capacity=1)
    first = make.person(email="first@example.org")
    second = make.person(email="second@example.org")
    enrolments.enrol_people(cohort.id, [first.id, second.id], actor=None)
    first_enrolment = enrolments.roster(cohort.id).enrolments[0]
    assert [r.recipient for r in outbox("enrolment_confirmation")] == ["first@example.org"]

    # The cohort fills itself: the seat freed goes to the first on the waitlist.
    withdrawal = enrolment_waitlist.withdraw(first_enrolment, actor=None)

    assert [e.person_id for e in withdrawal.filled] == [second.id]
    assert [r.recipient for r in outbox("enrolment_confirmation")] == [
        "first@example.org",
        "second@example.org",
    ]


def test_a_promotion_by_hand_is_confirmed(db_session: Any, make: Any) -> None:
    cohort = course(make, capacity=1)
    cohort.auto_fill_waitlist = False
    first = make.person(email="first@example.org")
    second = make.person(email="second@example.org")
    enrolments.enrol_people(cohort.id, [first.id, second.id], actor=None)
    first_enrolment = enrolments.roster(cohort.id).enrolments[0]

    assert enrolment_waitlist.withdraw(first_enrolment, actor=None).filled == []
    assert [r.recipient for r in outbox("enrolment_confirmation")] == ["first@example.org"]
    promoted = enrolment_waitlist.promote(cohort.id, actor=None)

    assert promoted.person_id == second.id
    assert [r.recipient for r in outbox("enrolment_confirmation")] == [
        "first@example.org",
        "second@example.org",
    ]


def test_an_accepted_application_is_confirmed_but_a_status_correction_is_not(
    db_session: Any, make: Any
) -> None:
    cohort = course(make)
    person = make.person(email="applicant@example.org")
    enrolment = enrolments.enrol(cohort.id, person.id, actor=None, status=S.APPLIED)
    assert outbox() == []

    enrolments.change_status(enrolment, S.ENROLLED, actor=None)
    assert len(outbox()) == 1
    enrolments.change_status(enrolment, S.COMPLETED, actor=None)
    enrolments.change_status(enrolment, S.ENROLLED, actor=None)  # undoing a mistake

    assert len(outbox()) == 1


def test_a_bilingual_cohort_writes_in_each_persons_own_language(db_session: Any, make: Any) -> None:
    cohort = course(make, language="en+ru", sessions=1)
    russian = make.person(first_name="Иван", last_name="Петров", email="ivan@example.org")
    make.user(role=Role.PARTICIPANT, email="ivan@example.org", person=russian, locale="ru")
    no_account = make.person(email="guest@example.org")

    enrolments.enrol_people(cohort.id, [russian.id, no_account.id], actor=None)

    rows = {r.recipient: r for r in outbox()}
    assert first_day("ru") in text_of(rows["ivan@example.org"])
    assert rows["ivan@example.org"].user_id == russian.user.id
    assert "Mon, Mar 4, 2030" in text_of(rows["guest@example.org"])


def selects(statements: list[str]) -> int:
    """Look-ups only: rows are inserted one statement each on SQLite (in one transaction)."""
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))


def _bulk_enrolment_queries(make: Any, count_queries: Any, n: int) -> int:
    cohort = course(make)
    people = [make.person() for _ in range(n)]
    db.session.flush()
    with count_queries() as q:
        enrolments.enrol_people(cohort.id, [p.id for p in people], actor=None)
        db.session.flush()
    assert len(outbox("enrolment_confirmation")) == n
    db.session.execute(sa.delete(OutboxMessage))
    return selects(q.statements)


def test_confirmations_for_many_people_take_no_more_queries_than_for_a_few(
    db_session: Any, make: Any, count_queries: Any
) -> None:
    few = _bulk_enrolment_queries(make, count_queries, 3)
    many = _bulk_enrolment_queries(make, count_queries, 40)
    assert many == few


# --------------------------------------------------------------------------- sessions


def _participants(make: Any, cohort: Any) -> dict[str, Any]:
    people = {
        "active": make.person(first_name="Ləman", last_name="Əliyeva", email="a@example.org"),
        "done": make.person(email="done@example.org"),
        "no_email": make.person(email=None),
        "left": make.person(email="left@example.org"),
        "waiting": make.person(email="waiting@example.org"),
    }
    make.enrolment(cohort, people["active"])
    make.enrolment(cohort, people["done"], status=S.COMPLETED)
    make.enrolment(cohort, people["no_email"])
    make.enrolment(cohort, people["left"], status=S.WITHDRAWN)
    make.enrolment(cohort, people["waiting"], status=S.WAITLISTED, waitlist_position=1)
    return people


def test_moving_a_session_tells_every_active_participant_once(db_session: Any, make: Any) -> None:
    cohort = course(make)
    _participants(make, cohort)
    session = sessions_of(cohort)[0]
    data = session_services.session_input(session)
    data.day, data.start_time, data.end_time = date(2030, 3, 8), time(14, 0), time(17, 30)

    session_services.update_session(session, data, actor=None)

    rows = outbox("session_changed")
    assert sorted(r.recipient for r in rows) == ["a@example.org", "done@example.org"]
    row = next(r for r in rows if r.recipient == "a@example.org")
    assert row.subject == "New time: Day 1 on Fri, Mar 8, 2030"
    text = text_of(row)
    assert "Dear Ləman Əliyeva," in text
    assert "Now: Fri, Mar 8, 2030, 14:00–17:30" in text
    assert "Was: Mon, Mar 4, 2030, 09:00–12:00" in text
    assert "Times are in Azerbaijan Time." in text
    assert "Now:" in html_of(row) and "14:00–17:30" in html_of(row)
    [event] = [
        e
        for e in calendar_of(row).walk("VEVENT")
        if str(e["uid"]).startswith(f"session-{session.id}@")
    ]
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2030, 3, 8, 10, 0, tzinfo=UTC)
    assert int(event["sequence"]) == 1  # calendar apps replace their copy


def test_the_sessions_trainers_are_told_too(db_session: Any, make: Any) -> None:
    cohort = course(make)
    _participants(make, cohort)
    session = sessions_of(cohort)[0]
    session.trainers.append(
        make.person(first_name="Şükrü", last_name="Yılmaz", email="t@example.org")
    )
    session.trainers.append(make.person(first_name="No", last_name="Address", email=None))
    db.session.flush()

    session_services.set_session_cancelled(session, True, actor=None)

    rows = outbox("session_changed")
    assert sorted(r.recipient for r in rows) == [
        "a@example.org",
        "done@example.org",
        "t@example.org",
    ]
    assert "Dear Şükrü Yılmaz," in text_of(next(r for r in rows if r.recipient == "t@example.org"))


def test_editing_a_session_without_moving_it_sends_nothing(db_session: Any, make: Any) -> None:
    cohort = course(make)
    _participants(make, cohort)
    session = sessions_of(cohort)[0]
    data = session_services.session_input(session)
    data.title = "Opening"

    session_services.update_session(session, data, actor=None)

    assert outbox() == []


def test_cancelling_and_restoring_a_session_are_announced(db_session: Any, make: Any) -> None:
    cohort = course(make, language="ru")
    _participants(make, cohort)
    session = sessions_of(cohort)[1]

    session_services.set_session_cancelled(session, True, actor=None)
    cancelled = outbox("session_changed")
    session_services.set_session_cancelled(session, False, actor=None)
    restored = outbox("session_changed")[len(cancelled) :]

    assert len(cancelled) == len(restored) == 2
    assert cancelled[0].subject.startswith(f"Отменено: Day 2, {first_day('ru', later=1)}")
    assert f"{first_day('ru', later=1)}, 09:00–12:00" in text_of(cancelled[0])
    events = {str(e["summary"]): e for e in calendar_of(cancelled[0]).walk("VEVENT")}
    assert str(events["Day 2"]["status"]) == "CANCELLED"
    assert restored[0].subject.startswith("Снова в расписании: Day 2")


def test_changes_to_sessions_that_are_over_send_nothing(db_session: Any, make: Any) -> None:
    cohort = course(make, sessions=0)
    _participants(make, cohort)
    start = utcnow() - timedelta(days=2)
    session = make.session(cohort, starts_at=start, ends_at=start + timedelta(hours=3))

    assert notify.session_changed(session, notify.CANCELLED) == []
    assert notify.session_changed(session, notify.MOVED, start, start + timedelta(hours=1)) == []
    assert outbox() == []
    later = utcnow() + timedelta(days=1)
    moved = notify.session_changed(session, notify.MOVED, later, later + timedelta(hours=3))
    assert len(moved) == 2  # moved from the future into the past: still news


def _session_change_queries(make: Any, count_queries: Any, n: int) -> int:
    cohort = course(make, sessions=2)
    for _ in range(n):
        make.enrolment(cohort, make.person())
    session = sessions_of(cohort)[0]
    db.session.flush()
    with count_queries() as q:
        messages = notify.session_changed(session, notify.CANCELLED)
        db.session.flush()
    assert len(messages) == n
    db.session.execute(sa.delete(OutboxMessage))
    return selects(q.statements)


def test_session_changes_for_many_people_take_no_more_queries_than_for_a_few(
    db_session: Any, make: Any, count_queries: Any
) -> None:
    few = _session_change_queries(make, count_queries, 3)
    many = _session_change_queries(make, count_queries, 40)
    assert many == few


def test_an_unknown_change_is_refused(db_session: Any, make: Any) -> None:
    session = sessions_of(course(make, sessions=1))[0]
    with pytest.raises(ValueError, match="moved, cancelled, restored"):
        notify.session_changed(session, "postponed")


# --------------------------------------------------------------------------- certificates


def _certificate(make: Any, person: Any) -> Certificate:
    cohort = course(make, language="az", sessions=1)
    enrolment = make.enrolment(cohort, person, status=S.COMPLETED)
    certificate = Certificate(
        serial="MMDP-2030-0007",
        verification_code="K7Q2M9XD",
        enrolment_id=enrolment.id,
        cohort_id=cohort.id,
        person_id=person.id,
        snapshot={},
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def test_an_issued_certificate_is_sent_with_its_download_and_verification_links(
    db_session: Any, make: Any
) -> None:
    person = make.person(first_name="ნინო", last_name="", email="nino@example.org")
    certificate = _certificate(make, person)

    row = notify.certificate_issued(certificate)

    assert row is not None and row.kind == "certificate_issued"
    assert row.recipient == "nino@example.org"
    assert row.subject == "Sertifikatınız: Управление миграцией"
    msg = delivery.parse(row.message)
    assert msg["To"] == "ნინო <nino@example.org>"
    text, html = text_of(row), html_of(row)
    verify = "https://training.example.org/verify/K7Q2M9XD"
    assert "MMDP-2030-0007" in text and verify in text
    assert f'href="{verify}"' in html
    download = recipients.certificate_download_url(certificate)
    assert download.startswith("https://training.example.org/certificates/")
    assert str(certificate.id) in download
    assert download in text and f'href="{download}"' in html
    assert '<html lang="az">' in html


def test_no_certificate_mail_for_someone_without_an_address(db_session: Any, make: Any) -> None:
    certificate = _certificate(make, make.person(email=None))
    assert notify.certificate_issued(certificate) is None
    assert outbox() == []


def test_a_cohort_s_certificate_mails_written_by_the_worker_are_the_same_messages(
    db_session: Any, make: Any
) -> None:
    person = make.person(first_name="ნინო", last_name="", email="nino@example.org")
    certificate = _certificate(make, person)
    other = make.enrolment(certificate.enrolment.cohort, make.person(email=None))
    unreachable = Certificate(
        serial="MMDP-2030-0008",
        verification_code="K7Q2M9XE",
        enrolment_id=other.id,
        cohort_id=other.cohort_id,
        person_id=other.person_id,
        snapshot={},
    )
    db.session.add(unreachable)
    db.session.flush()
    at_once = notify.certificate_issued(certificate)
    db.session.expunge(at_once)  # kept to compare, not sent
    cohort = certificate.enrolment.cohort

    assert notify.defer_certificates_issued([certificate, unreachable], cohort) == 1
    db_session.commit()
    assert deferred.render_pending() == 1

    [row] = outbox("certificate_issued")
    db_session.refresh(row)
    assert (row.recipient, row.subject) == (at_once.recipient, at_once.subject)
    assert text_of(row) == text_of(at_once) and html_of(row) == html_of(at_once)
    assert row.status.value == "pending"


# --------------------------------------------------------------------------- written by the worker


def _parts(data: bytes) -> tuple[str, str, str, list[tuple[str | None, bytes]]]:
    """A message's parts, its one-time sign-in link's secret masked (a new one each time)."""
    msg = delivery.parse(data)
    attachments = [(a.get_filename(), a.get_payload(decode=True)) for a in msg.iter_attachments()]

    def masked(text: str) -> str:
        return re.sub(r"/login/link/[A-Za-z0-9_-]+", "/login/link/SECRET", text)

    return (
        str(msg["Subject"]),
        masked(str(msg.get_body(("plain",)).get_content())),
        masked(str(msg.get_body(("html",)).get_content())),
        attachments,
    )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_bulk_confirmations_are_written_by_the_worker_as_they_would_have_been_at_once(
    db_session: Any, make: Any, language: str
) -> None:
    cohort = course(make, language=language)
    people = [
        make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org"),
        make.person(first_name="Иван", last_name="Петров", email="ivan@example.org"),
        make.person(email=None),  # no address: no message
    ]
    # What a confirmation rendered at once contains (then forgotten).
    savepoint = db_session.begin_nested()
    at_once = enrolments.enrol_people(cohort.id, [p.id for p in people], actor=None)
    expected = {r.recipient: _parts(r.message) for r in outbox()}
    assert len(at_once.enrolled) == 3 and len(expected) == 2
    savepoint.rollback()

    enrolments.enrol_people(cohort.id, [p.id for p in people], actor=None, defer_mail=True)
    queued = outbox()
    assert [(r.recipient, r.message, r.subject) for r in queued] == [
        ("leman@example.org", None, ""),
        ("ivan@example.org", None, ""),
    ]
    assert all((r.programme_id, r.cohort_id) == (cohort.programme_id, cohort.id) for r in queued)
    db_session.commit()

    delivery.MEMORY_OUTBOX.clear()
    assert delivery.deliver_due().sent == 2
    sent = {m.recipients[0]: m for m in delivery.MEMORY_OUTBOX}
    delivery.MEMORY_OUTBOX.clear()
    for row in outbox():
        db_session.refresh(row)
        assert row.status.value == "sent" and row.subject == expected[row.recipient][0]
        assert _parts(row.message) == expected[row.recipient]  # same text, HTML and calendar
        assert sent[row.recipient].message["To"].addresses[0].addr_spec == row.recipient


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_imports_waitlist_places_are_written_by_the_worker_as_they_would_have_been_at_once(
    db_session: Any, make: Any, language: str
) -> None:
    """An import into a full cohort puts people on the waitlist: their "your place" e-mails
    are written by the worker after the commit too, each with the place given at the import
    (not whatever it is when the worker writes), the same message as one written at once."""
    cohort = course(make, language=language, capacity=1)
    people = [
        make.person(first_name="Ada", last_name="First", email="ada@example.org"),
        make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org"),
        make.person(first_name="Иван", last_name="Петров", email="ivan@example.org"),
        make.person(email=None),  # no address: no message
    ]
    ids = [p.id for p in people]
    savepoint = db_session.begin_nested()
    at_once = enrolments.enrol_people(cohort.id, ids, actor=None)
    expected = {r.recipient: _parts(r.message) for r in outbox()}
    assert [e.waitlist_position for e in at_once.waitlisted] == [1, 2, 3]
    savepoint.rollback()

    result = enrolments.enrol_people(cohort.id, ids, actor=None, defer_mail=True)
    assert [(r.recipient, r.message, r.kind) for r in outbox()] == [
        ("ada@example.org", None, notify.ENROLMENT_CONFIRMATION),
        ("leman@example.org", None, notify.WAITLIST_PLACE),
        ("ivan@example.org", None, notify.WAITLIST_PLACE),
    ]
    db_session.commit()
    # Иван moves up before the worker runs: the e-mail still says the place given (2).
    result.waitlisted[1].waitlist_position = 1
    db_session.commit()

    delivery.MEMORY_OUTBOX.clear()
    assert delivery.deliver_due().sent == 3
    delivery.MEMORY_OUTBOX.clear()
    waitlisted = [r for r in outbox() if r.kind == notify.WAITLIST_PLACE]
    assert [r.recipient for r in waitlisted] == ["leman@example.org", "ivan@example.org"]
    for row in waitlisted:
        db_session.refresh(row)
        assert row.status.value == "sent" and row.subject == expected[row.recipient][0]
        assert _parts(row.message) == expected[row.recipient]


def test_a_bulk_confirmation_whose_enrolment_is_gone_fails_with_the_reason(
    db_session: Any, make: Any
) -> None:
    cohort = course(make)
    person = make.person(email="gone@example.org")
    [enrolment] = enrolments.enrol_people(
        cohort.id, [person.id], actor=None, defer_mail=True
    ).enrolled
    db.session.delete(enrolment)
    db_session.commit()

    delivery.MEMORY_OUTBOX.clear()
    assert delivery.deliver_due().sent == 0
    [row] = outbox()
    db_session.refresh(row)
    assert row.status.value == "failed" and row.message is None
    assert "no longer exists" in (row.last_error or "")
    assert delivery.MEMORY_OUTBOX == []


def test_writing_many_bulk_confirmations_takes_no_more_queries_than_a_few(
    db_session: Any, make: Any, count_queries: Any
) -> None:
    def written(count: int) -> int:
        cohort = course(make)
        ids = [make.person(email=f"p{count}-{i}@example.org").id for i in range(count)]
        cohort.capacity = count // 2  # confirmations and waitlist places
        enrolments.enrol_people(cohort.id, ids, actor=None, defer_mail=True)
        db_session.commit()
        with count_queries() as q:
            assert deferred.render_pending() == count
        return q.count

    assert written(4) == written(40)
