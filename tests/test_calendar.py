"""iCalendar files of a cohort's and of a trainer's sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from trainingmgr.accounts.models import Role
from trainingmgr.cohorts import calendar as ics
from trainingmgr.cohorts import overview as cohort_overview
from trainingmgr.cohorts import schedule
from trainingmgr.cohorts import sessions as session_services
from trainingmgr.cohorts.models import DeliveryMode, SessionStatus
from trainingmgr.core.errors import NotFound

AMS = ZoneInfo("Europe/Amsterdam")


def events(cal: Calendar) -> list[Any]:
    return list(cal.walk("VEVENT"))


def zones(cal: Calendar) -> set[str]:
    return {str(c["TZID"]) for c in cal.walk("VTIMEZONE")}


@pytest.fixture
def amsterdam(make: Any) -> Any:
    """An MMDP cohort in Maastricht with a series across the October DST change."""
    programme = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    module = make.module(programme, code="IML", title="International migration law")
    cohort = make.cohort(
        programme,
        name="MMDP 2026",
        timezone="Europe/Amsterdam",
        venue="UNU-MERIT",
        city="Maastricht",
        start_date=date(2026, 10, 19),
        end_date=date(2026, 10, 30),
    )
    trainer = make.person(first_name="Ləman", last_name="Əliyeva")
    session_services.add_series(
        cohort,
        schedule.SeriesInput(
            start_date=date(2026, 10, 19),
            end_date=date(2026, 10, 30),
            weekdays=[0, 2, 4],
            start_time=time(9, 0),
            end_time=time(12, 30),
            module_id=module.id,
            trainer_ids=[trainer.id],
        ),
        actor=None,
    )
    return cohort, trainer


def test_cohort_calendar_download(client: Any, login: Any, amsterdam: Any) -> None:
    cohort, trainer = amsterdam
    sessions = cohort_overview.cohort_sessions(cohort.id)
    session_services.set_session_cancelled(sessions[1], True, actor=None)
    login(Role.COORDINATOR)
    response = client.get(f"/cohorts/{cohort.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mmdp-mmdp-2026.ics"'
    cal = Calendar.from_ical(response.data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"])
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == "MMDP · MMDP 2026"
    assert zones(cal) == {"Europe/Amsterdam"}
    assert cal.subcomponents[0].name == "VTIMEZONE"
    evs = events(cal)
    assert len(evs) == 6
    uids = [str(e["UID"]) for e in evs]
    assert len(set(uids)) == 6
    assert uids[0] == f"session-{sessions[0].id}@training.example.org"
    for e in evs:
        start = e.decoded("DTSTART")
        assert e["DTSTART"].params["TZID"] == "Europe/Amsterdam"
        assert start.tzinfo is not None
        assert (start.astimezone(AMS).hour, start.astimezone(AMS).minute) == (9, 0)
        assert e.decoded("DTEND").astimezone(AMS).time() == time(12, 30)
        assert "DTSTAMP" in e
        assert str(e["LOCATION"]) == "UNU-MERIT, Maastricht"
        assert "IML International migration law" in str(e["DESCRIPTION"])
        assert "Ləman Əliyeva" in str(e["DESCRIPTION"])
        assert str(e["SUMMARY"]) == "International migration law"
    assert [str(e["STATUS"]) for e in evs] == ["CONFIRMED", "CANCELLED"] + ["CONFIRMED"] * 4
    # the same instants as stored: 07:00 UTC before the change, 08:00 UTC after
    assert [e.decoded("DTSTART").astimezone(UTC).hour for e in evs] == [7, 7, 7, 8, 8, 8]


def test_sequence_counts_changes(db_session: Any, make: Any, app: Any) -> None:
    cohort = make.cohort(timezone="Asia/Baku")
    session = session_services.add_session(
        cohort,
        schedule.SessionInput(
            day=date(2026, 3, 3), start_time=time(9), end_time=time(12), title="Readmission"
        ),
        actor=None,
    )

    def sequence() -> int:
        cal = Calendar.from_ical(ics.cohort_calendar(cohort).body)
        (event,) = events(cal)
        return int(event["SEQUENCE"])

    assert sequence() == 0
    data = session_services.session_input(session)
    data.start_time = time(10)
    session_services.update_session(session, data, actor=None)
    assert sequence() == 1
    session_services.set_session_cancelled(session, True, actor=None)
    assert sequence() == 2


def test_online_session_has_url(db_session: Any, make: Any) -> None:
    cohort = make.cohort(delivery_mode=DeliveryMode.ONLINE, timezone="UTC")
    make.session(cohort, mode=DeliveryMode.ONLINE, online_url="https://meet.example.org/mmpaf")
    (event,) = events(Calendar.from_ical(ics.cohort_calendar(cohort).body))
    assert str(event["URL"]) == "https://meet.example.org/mmpaf"
    assert str(event["LOCATION"]) == "Online"


def test_trainer_calendar_across_zones(client: Any, login: Any, make: Any, amsterdam: Any) -> None:
    cohort, trainer = amsterdam
    baku = make.cohort(name="RTCM ToT", timezone="Asia/Baku")
    make.session(
        baku,
        title="Training of trainers",
        starts_at=datetime(2026, 3, 3, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        trainers=[trainer],
    )
    make.session(baku, title="Someone else's")
    user = login(Role.TRAINER, person=trainer)
    assert user.person_id == trainer.id
    response = client.get(f"/cohorts/trainers/{trainer.id}/calendar.ics")
    assert response.status_code == 200
    assert "trainer-leman-eliyeva.ics" in response.headers["Content-Disposition"]
    cal = Calendar.from_ical(response.data)
    assert zones(cal) == {"Europe/Amsterdam", "Asia/Baku"}
    evs = events(cal)
    assert len(evs) == 7
    first = evs[0]
    assert first["DTSTART"].params["TZID"] == "Asia/Baku"
    assert first.decoded("DTSTART").astimezone(ZoneInfo("Asia/Baku")).hour == 9
    assert "RTCM ToT" in str(first["SUMMARY"])
    assert all("Someone else" not in str(e["SUMMARY"]) for e in evs)


def test_trainer_cannot_get_another_trainers_calendar(
    client: Any, login: Any, make: Any, amsterdam: Any
) -> None:
    _cohort, trainer = amsterdam
    login(Role.TRAINER)
    assert client.get(f"/cohorts/trainers/{trainer.id}/calendar.ics").status_code == 404


def test_who_may_download(client: Any, login: Any, make: Any, amsterdam: Any) -> None:
    cohort, trainer = amsterdam
    # (A participant whose person teaches is a trainer too: roles follow the facts.)
    login(Role.PARTICIPANT, person=make.person())
    assert client.get(f"/cohorts/trainers/{trainer.id}/calendar.ics").status_code == 403
    assert client.get(f"/cohorts/{cohort.id}/calendar.ics").status_code == 403
    login(Role.TRAINER, person=trainer)
    assert client.get(f"/cohorts/{cohort.id}/calendar.ics").status_code == 403
    login(Role.ADMIN)
    assert client.get(f"/cohorts/trainers/{trainer.id}/calendar.ics").status_code == 200
    assert client.get(f"/cohorts/{cohort.id}/calendar.ics").status_code == 200
    assert client.get("/cohorts/trainers/987654/calendar.ics").status_code == 404
    assert client.get("/cohorts/987654/calendar.ics").status_code == 404


def test_trainer_calendar_service_checks_the_object(db_session: Any, make: Any) -> None:
    trainer_user = make.user(Role.TRAINER)
    other = make.person()
    with pytest.raises(NotFound):
        ics.trainer_calendar(other.id, actor=trainer_user)
    own = ics.trainer_calendar(trainer_user.person_id, actor=trainer_user)
    assert events(Calendar.from_ical(own.body)) == []
    coordinator = make.user(Role.COORDINATOR)
    assert ics.trainer_calendar(other.id, actor=coordinator).filename.startswith("trainer-")


def test_cancelled_sessions_stay_in_the_feed(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    make.session(cohort, status=SessionStatus.CANCELLED)
    (event,) = events(Calendar.from_ical(ics.cohort_calendar(cohort).body))
    assert str(event["STATUS"]) == "CANCELLED"
