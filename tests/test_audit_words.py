"""The audit trail in words: names instead of ids, local times, labels of stored values and
summaries in the reader's language, on the page and in the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from trainingmgr.audit import services as audit
from trainingmgr.audit.summaries import summary_text
from trainingmgr.cohorts.models import DeliveryMode
from trainingmgr.cohorts.schedule import session_values
from trainingmgr.extensions import db

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def _session_event(make: Any, actor: Any) -> tuple[Any, Any]:
    """A session moved, made online, given a module and a trainer, as the app records it."""
    programme = make.programme(code="RTCM")
    cohort = make.cohort(programme, name="Baku ToT", timezone="Asia/Baku")
    module = make.module(programme, code="M4", title="Readmission")
    trainer = make.person(first_name="İlkin", last_name="Xudiyev")
    session = make.session(cohort, title="", starts_at=T0, ends_at=T0 + timedelta(hours=3))
    before = session_values(session)
    session.module = module
    session.mode = DeliveryMode.ONLINE
    session.starts_at = T0 + timedelta(days=1)
    session.ends_at = T0 + timedelta(days=1, hours=3)
    session.trainers.append(trainer)
    db.session.flush()
    event = audit.record(
        "session.update",
        actor=actor,
        obj=session,
        programme_id=programme.id,
        changes=audit.changed_fields(before, session_values(session)),
        summary=f"Edited a session of {cohort.name}",
    )
    db.session.flush()
    return event, session


def _page(client: Any) -> str:
    response = client.get("/audit")
    assert response.status_code == 200
    # Babel separates some words with no-break spaces ("2026\u00a0г."): compare as plain text.
    return response.get_data(as_text=True).replace("\u00a0", " ").replace("\u202f", " ")


def test_ids_times_and_values_are_shown_in_words(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", display_name="Ada Admin", timezone="Asia/Baku")
    _session_event(make, admin)

    html = _page(client)

    assert "Module:</span>" in html and "M4 Readmission" in html  # not "module id: 34"
    assert "Trainers:</span>" in html and "İlkin Xudiyev" in html  # not "trainer ids: 1"
    assert "In person</span>" in html and "Online</span>" in html  # not "in_person"
    # 03:00 UTC is 07:00 in Baku, the reader's zone; no ISO text.
    assert "Dec 6, 2026, 07:00" in html and "Dec 7, 2026, 07:00" in html
    assert "2026-12-06T03:00:00" not in html.split("<tbody>")[1].replace('datetime="', "")
    assert "Session: Readmission, Dec 7, 2026, 07:00" in html  # the object by its title
    assert "Edited a session of Baku ToT" in html


def test_weekdays_and_countries_are_named(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", locale="ru")
    person = make.person(first_name="Elvin", last_name="Quliyev")
    audit.record("session.series", actor=admin, obj=person, changes={"weekdays": [0, 2]})
    audit.record("person.update", actor=admin, obj=person, changes={"country": ["GE", "AZ"]})
    db.session.flush()

    html = _page(client)

    assert "пн, ср" in html  # Monday and Wednesday, not "0, 2"
    assert "Грузия</span>" in html and "Азербайджан</span>" in html


def test_an_account_is_named_not_numbered(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", display_name="Ada Admin")
    other = make.user(display_name="Rəna Məmmədova")
    audit.record("user.deactivated", actor=admin, obj=other, summary=other.email)
    db.session.flush()

    html = _page(client)

    assert "Account: Rəna Məmmədova" in html
    assert f"Account {other.id}<" not in html


def test_the_trail_in_russian_and_azerbaijani(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", display_name="Ada Admin", timezone="Asia/Baku", locale="ru")
    _session_event(make, admin)

    html = _page(client)

    assert "Занятие изменено" in html  # the action
    assert "Очно</span>" in html and "Онлайн</span>" in html  # stored values, labelled
    assert "Модуль:</span>" in html and "Тренеры:</span>" in html  # the fields
    assert "6 дек. 2026 г., 07:00" in html  # the locale's date, the reader's zone
    assert "in_person" not in html and "module id" not in html

    admin.locale = "az"
    db.session.flush()
    html = _page(client)

    assert "Məşğələ dəyişdirildi" in html
    assert "Əyani</span>" in html and "Onlayn</span>" in html
    assert "6 dek 2026 07:00" in html


def test_a_merge_names_the_cohort_sessions_and_records_it_moved(
    client: Any, make: Any, login: Any
) -> None:
    """A merge of two people lists its cohorts and sessions inside each merged enrolment, the
    certificates and the account it moved: by name, with every key labelled."""
    from trainingmgr.attendance.models import AttendanceStatus
    from trainingmgr.people import services as people

    admin = login("admin", display_name="Ada Admin", timezone="Asia/Baku")
    cohort = make.cohort(name="Amsterdam autumn")
    session = make.session(
        cohort, title="Readmission", starts_at=T0, ends_at=T0 + timedelta(hours=3)
    )
    keep = make.person(first_name="Rauf", last_name="Məmmədov")
    dup = make.person(first_name="Rauf", last_name="Məmmədov")
    make.user(role="participant", person=dup, display_name="Rauf M.")
    make.attendance(session, make.enrolment(cohort=cohort, person=keep), AttendanceStatus.ABSENT)
    make.attendance(session, make.enrolment(cohort=cohort, person=dup), AttendanceStatus.PRESENT)
    people.merge_people(keep, dup, actor=admin)
    db.session.flush()

    html = _page(client)

    assert "Amsterdam autumn" in html and "Readmission, Dec 6, 2026, 07:00" in html
    assert "Rauf M." in html  # the account moved, not its number
    for numbered in ("Cohort no.", "Session no.", "Account no."):
        assert numbered not in html  # no record shown by number while it exists
    for key in ("enrolments moved", "dropped enrolment id", "user moved", "certificates moved"):
        assert key not in html  # every key has a label


def test_english_summaries_are_written_again_in_the_readers_language(app: Any) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert (
            summary_text("session.series", "Added a series of 1 sessions to Baku A")
            == "Added a series of 1 session to Baku A"
        )
        assert summary_text("cohort.open", "Cohort Baku A: planned -> open") == (
            "Cohort Baku A: Planned → Open"
        )
        assert summary_text("enrolment.status", "Ivan Petrov: waitlisted -> enrolled") == (
            "Ivan Petrov: Waitlisted → Enrolled"
        )
        # Data, not words, is shown as it is.
        assert summary_text("person.update", "Иван Петров") == "Иван Петров"
    for language, waitlisted, enrolled in (
        ("ru", "В листе ожидания", "Зачислен(а)"),
        ("az", "Gözləmə siyahısında", "Qəbul olunub"),
    ):
        with app.test_request_context(headers={"Accept-Language": language}):
            # Stored values in a summary are labelled in the reader's language.
            text = summary_text("enrolment.status", "Ivan Petrov: waitlisted -> enrolled")
            assert waitlisted in text and enrolled in text and "waitlisted" not in text


def test_a_page_of_events_naming_many_records_costs_the_same_queries(
    client: Any, make: Any, login: Any, count_queries: Any
) -> None:
    admin = login("admin", timezone="Asia/Baku")
    programme = make.programme()
    cohort = make.cohort(programme)

    def add(n: int) -> None:
        for i in range(n):
            module = make.module(programme)
            trainer = make.person()
            session = make.session(cohort)
            enrolment = make.enrolment(cohort=cohort)
            audit.record(
                "session.update",
                actor=make.user(display_name=f"Actor {i}") if i % 2 else admin,
                obj=session if i % 3 else enrolment,
                programme_id=programme.id,
                changes={
                    "module_id": [None, module.id],
                    "trainer_ids": [[], [trainer.id]],
                    "starts_at": [T0.isoformat(), (T0 + timedelta(hours=i)).isoformat()],
                    "mode": ["in_person", "online"],
                    "cohort_id": cohort.id,
                },
            )
        db.session.flush()

    add(4)
    client.get("/audit")  # warm up
    with count_queries() as small:
        _page(client)
    add(36)
    with count_queries() as large:
        html = _page(client)
    assert html.count("In person</span>") == 40
    assert large.count == small.count


def test_the_csv_export_is_in_words(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", display_name="Ada Admin", timezone="Asia/Baku")
    _session_event(make, admin)

    response = client.get("/audit.csv", query_string={"action": "session.update"})

    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    [row] = table[1:]
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}", row[0])  # Baku time
    assert row[6] == "Session: Readmission, Dec 7, 2026, 07:00"
    assert "Module: — → M4 Readmission" in row[9]
    assert "Delivery: In person → Online" in row[9]
    assert "Trainers: — → İlkin Xudiyev" in row[9]
    assert "Starts: Dec 6, 2026, 07:00 → Dec 7, 2026, 07:00" in row[9]
    assert row[11] == "Edited a session of Baku ToT"
