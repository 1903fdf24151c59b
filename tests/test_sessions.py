"""Sessions: single ones and series, local times across DST, warnings before saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts import schedule
from trainingmgr.cohorts import sessions as session_services
from trainingmgr.cohorts.models import CohortStatus, DeliveryMode, Session, SessionStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db

AMS = ZoneInfo("Europe/Amsterdam")


def sessions_of(cohort: Any) -> list[Session]:
    return list(
        db.session.scalars(
            sa.select(Session).where(Session.cohort_id == cohort.id).order_by(Session.starts_at)
        )
    )


def series(**kw: Any) -> schedule.SeriesInput:
    values: dict[str, Any] = {
        "start_date": date(2026, 3, 2),
        "end_date": date(2026, 3, 13),
        "weekdays": [0, 1, 2, 3, 4],
        "start_time": time(9, 0),
        "end_time": time(12, 30),
        "title": "Morning lecture",
    }
    values.update(kw)
    return schedule.SeriesInput(**values)


def one(day: date, start: time, end: time, **kw: Any) -> schedule.SessionInput:
    kw.setdefault("title", "Workshop")
    return schedule.SessionInput(day=day, start_time=start, end_time=end, **kw)


def confirmed(call: Any) -> Any:
    """Call a service, confirm the warnings it raises (as a user would) and call it again."""
    try:
        return call(None)
    except schedule.NeedsConfirmation as exc:
        return call(exc.digest)


# --------------------------------------------------------------------------- series


def test_weekdays_for_two_weeks_make_ten_sessions(db_session: Any, make: Any) -> None:
    cohort = make.cohort(
        timezone="Asia/Baku", start_date=date(2026, 3, 2), end_date=date(2026, 3, 13)
    )
    created = session_services.add_series(cohort, series(), actor=make.user())
    assert len(created) == 10
    stored = sessions_of(cohort)
    assert len(stored) == 10
    local = [s.starts_at.astimezone(ZoneInfo("Asia/Baku")) for s in stored]
    assert {d.weekday() for d in local} == {0, 1, 2, 3, 4}
    assert {(d.hour, d.minute) for d in local} == {(9, 0)}
    assert stored[0].starts_at == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert stored[0].ends_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.series"))
    assert sorted(event.changes["session_ids"]) == sorted(s.id for s in created)


def test_every_monday_for_twelve_weeks(db_session: Any, make: Any) -> None:
    cohort = make.cohort(start_date=date(2026, 9, 7), end_date=date(2026, 11, 27))
    created = session_services.add_series(
        cohort,
        series(start_date=date(2026, 9, 7), end_date=date(2026, 11, 29), weekdays=[0]),
        actor=None,
    )
    assert len(created) == 12
    assert {s.starts_at.astimezone(cohort.tz).weekday() for s in created} == {0}


def test_every_other_week() -> None:
    days = schedule.series_dates(date(2026, 9, 2), date(2026, 10, 31), [2], interval_weeks=2)
    assert days == [date(2026, 9, 2), date(2026, 9, 16), date(2026, 9, 30), date(2026, 10, 14),
                    date(2026, 10, 28)]  # fmt: skip


def test_series_across_dst_keeps_local_time(db_session: Any, make: Any) -> None:
    cohort = make.cohort(
        timezone="Europe/Amsterdam", start_date=date(2026, 10, 19), end_date=date(2026, 10, 30)
    )
    created = session_services.add_series(
        cohort,
        series(start_date=date(2026, 10, 19), end_date=date(2026, 10, 30), end_time=time(12, 0)),
        actor=None,
    )
    assert len(created) == 10
    for s in created:
        local = s.starts_at.astimezone(AMS)
        assert (local.hour, local.minute) == (9, 0)
        assert s.ends_at.astimezone(AMS).hour == 12
    before = [s for s in created if s.starts_at.date() < date(2026, 10, 25)]
    after = [s for s in created if s.starts_at.date() > date(2026, 10, 25)]
    assert {s.starts_at.hour for s in before} == {7}  # CEST, UTC+2
    assert {s.starts_at.hour for s in after} == {8}  # CET, UTC+1
    db.session.expire_all()
    stored = sessions_of(cohort)
    assert [s.starts_at.hour for s in stored] == [7] * 5 + [8] * 5


def test_nonexistent_local_time_is_refused_and_ambiguous_one_is_first(
    db_session: Any, make: Any
) -> None:
    cohort = make.cohort(
        timezone="Europe/Amsterdam", start_date=date(2026, 3, 23), end_date=date(2026, 11, 1)
    )
    with pytest.raises(DomainError) as info:
        session_services.add_session(
            cohort, one(date(2026, 3, 29), time(2, 30), time(4, 0)), actor=None
        )
    assert info.value.field == "start_time"
    assert "does not exist in Europe/Amsterdam" in info.value.message
    session = session_services.add_session(
        cohort, one(date(2026, 10, 25), time(2, 30), time(4, 0)), actor=None
    )
    # 02:30 happens twice that night; the first one (still summer time, UTC+2) is used.
    assert session.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert session.ends_at == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekdays": []}, "weekdays"),
        ({"end_date": date(2026, 3, 1)}, "end_date"),
        ({"interval_weeks": 0}, "interval_weeks"),
        ({"end_time": time(9, 0)}, "end_time"),
        ({"start_date": date(2026, 3, 3), "end_date": date(2026, 3, 4), "weekdays": [6]},
         "weekdays"),
        ({"end_date": date(2027, 12, 31)}, "end_date"),
        ({"title": "", "module_id": None}, "title"),
        ({"trainer_ids": [987_654]}, "trainer_ids"),
        ({"online_url": "ftp://example.org"}, "online_url"),
    ],
)  # fmt: skip
def test_series_bad_input_writes_nothing(
    db_session: Any, make: Any, changes: dict[str, Any], field: str
) -> None:
    cohort = make.cohort()
    with pytest.raises(DomainError) as info:
        session_services.add_series(cohort, series(**changes), actor=None)
    assert info.value.field == field
    assert sessions_of(cohort) == []


def test_modules_must_be_the_programmes_and_not_retired(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    foreign = make.module()
    retired = make.module(cohort.programme, retired=True)
    for module in (foreign, retired):
        with pytest.raises(DomainError) as info:
            session_services.add_session(
                cohort, one(date(2026, 3, 2), time(9), time(10), module_id=module.id), actor=None
            )
        assert info.value.field == "module_id"
    # A session that already uses a retired module keeps it when edited.
    session = make.session(cohort, module=retired)
    data = session_services.session_input(session)
    data.title = "Renamed"
    session_services.update_session(session, data, actor=None)
    assert session.module_id == retired.id


# --------------------------------------------------------------------------- warnings


def test_trainer_booked_in_two_cohorts_at_once(db_session: Any, make: Any) -> None:
    trainer = make.person(first_name="Иван", last_name="Петров")
    baku = make.cohort(name="Baku ToT", timezone="Asia/Baku")
    make.session(
        baku,
        title="Readmission",
        starts_at=datetime(2026, 3, 3, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        trainers=[trainer],
    )
    online = make.cohort(name="MMPAF week 1", timezone="Europe/Amsterdam")
    proposed = [
        schedule.ProposedSession(
            datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
            datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
            (trainer.id,),
        )
    ]
    warnings = schedule.schedule_warnings(online, proposed)
    assert len(warnings) == 2
    assert "Иван Петров is already booked" in warnings[0]
    assert "Readmission" in warnings[0]
    assert "Baku ToT" in warnings[0]
    assert "Europe/Amsterdam" in warnings[-1]
    # another trainer, or a cancelled booking, is no conflict
    assert (
        schedule.schedule_warnings(
            online, [schedule.ProposedSession(proposed[0].starts_at, proposed[0].ends_at, ())]
        )
        == []
    )
    for s in sessions_of(baku):
        s.status = SessionStatus.CANCELLED
    db.session.flush()
    assert schedule.schedule_warnings(online, proposed) == []


def test_overlapping_sessions_in_one_cohort(db_session: Any, make: Any) -> None:
    cohort = make.cohort(timezone="Asia/Baku")
    existing = make.session(
        cohort,
        title="Legal mobility",
        starts_at=datetime(2026, 3, 4, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
    )
    proposed = [
        schedule.ProposedSession(
            datetime(2026, 3, 4, 7, 30, tzinfo=UTC), datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
        )
    ]
    (warning, _zone) = schedule.schedule_warnings(cohort, proposed)
    assert "overlaps “Legal mobility”" in warning
    assert "09:00–12:00" in warning  # shown in Baku time
    # back to back is fine, and a session does not clash with itself when edited
    touching = [
        schedule.ProposedSession(
            datetime(2026, 3, 4, 8, 0, tzinfo=UTC), datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
        )
    ]
    assert schedule.schedule_warnings(cohort, touching) == []
    assert schedule.schedule_warnings(cohort, proposed, exclude_session_id=existing.id) == []


def test_session_outside_cohort_dates(db_session: Any, make: Any) -> None:
    cohort = make.cohort(
        timezone="Asia/Baku", start_date=date(2026, 3, 2), end_date=date(2026, 3, 13)
    )
    # 21:00 UTC on 1 March is 01:00 on 2 March in Baku: inside.
    inside = schedule.ProposedSession(
        datetime(2026, 3, 1, 21, 0, tzinfo=UTC), datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
    )
    assert schedule.schedule_warnings(cohort, [inside]) == []
    outside = schedule.ProposedSession(
        datetime(2026, 3, 14, 5, 0, tzinfo=UTC), datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
    )
    warnings = schedule.schedule_warnings(cohort, [outside])
    assert "outside the cohort's dates" in warnings[0]


def test_series_warns_about_every_clash_with_bounded_queries(
    db_session: Any, make: Any, count_queries: Any
) -> None:
    trainer = make.person()
    cohort = make.cohort(timezone="UTC", start_date=date(2026, 3, 2), end_date=date(2026, 3, 13))
    other = make.cohort()
    make.session(
        other,
        starts_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 10, 11, 0, tzinfo=UTC),
        trainers=[trainer],
    )
    data = series(
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 20),
        weekdays=[1],
        trainer_ids=[trainer.id],
    )
    short = session_services.propose_series(cohort, series(weekdays=[1], trainer_ids=[trainer.id]))
    long = session_services.propose_series(cohort, data)
    with count_queries() as q_short:
        schedule.schedule_warnings(cohort, short)
    with count_queries() as q_long:
        warnings = schedule.schedule_warnings(cohort, long)
    assert q_short.count == q_long.count <= 2
    assert len(warnings) == 3  # the trainer on 10 March, 17 March outside, the zone note
    with pytest.raises(schedule.NeedsConfirmation):
        session_services.add_series(cohort, data, actor=None)
    assert sessions_of(cohort) == []
    created = confirmed(
        lambda ack: session_services.add_series(cohort, data, actor=None, acknowledged=ack)
    )
    assert len(created) == 3


def test_confirmation_must_match_the_warnings(db_session: Any, make: Any) -> None:
    cohort = make.cohort(start_date=date(2026, 3, 2), end_date=date(2026, 3, 13))
    outside = one(date(2026, 4, 1), time(9), time(10))
    with pytest.raises(schedule.NeedsConfirmation) as info:
        session_services.add_session(cohort, outside, actor=None)
    assert sessions_of(cohort) == []
    with pytest.raises(schedule.NeedsConfirmation):
        session_services.add_session(cohort, outside, actor=None, acknowledged="some-other-digest")
    session = session_services.add_session(
        cohort, outside, actor=None, acknowledged=info.value.digest
    )
    assert session.id is not None


# --------------------------------------------------------------------------- edit, cancel


def test_move_cancel_restore_and_delete(db_session: Any, make: Any) -> None:
    actor = make.user()
    cohort = make.cohort(timezone="Asia/Baku")
    trainer = make.person()
    session = session_services.add_session(
        cohort, one(date(2026, 3, 3), time(9), time(12), trainer_ids=[trainer.id]), actor=actor
    )
    data = session_services.session_input(session)
    assert (data.day, data.start_time, data.end_time) == (date(2026, 3, 3), time(9), time(12))
    assert data.trainer_ids == [trainer.id]
    data.day = date(2026, 3, 4)
    data.start_time = time(14)
    data.end_time = time(17)
    data.mode = DeliveryMode.ONLINE
    data.online_url = "https://meet.example.org/x"
    session_services.update_session(session, data, actor=actor)
    assert session.starts_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    session_services.set_session_cancelled(session, True, actor=actor)
    assert session.status == SessionStatus.CANCELLED
    session_services.set_session_cancelled(session, False, actor=actor)
    assert session.status == SessionStatus.SCHEDULED
    session_id = session.id
    session_services.delete_session(session, actor=actor)
    assert db.session.get(Session, session_id) is None
    actions = list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "sessions", AuditEvent.object_id == session_id)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == [
        "session.create",
        "session.update",
        "session.cancel",
        "session.uncancel",
        "session.delete",
    ]


def test_delete_refused_with_attendance(db_session: Any, make: Any) -> None:
    session = make.session()
    make.attendance(session, make.enrolment(session.cohort))
    with pytest.raises(DomainError) as info:
        session_services.delete_session(session, actor=None)
    assert "Cancel it instead" in info.value.message
    assert db.session.get(Session, session.id) is not None


def test_archived_cohort_schedule_is_frozen(db_session: Any, make: Any) -> None:
    cohort = make.cohort(status=CohortStatus.ARCHIVED)
    with pytest.raises(DomainError) as info:
        session_services.add_session(cohort, one(date(2026, 3, 3), time(9), time(12)), actor=None)
    assert "archived" in info.value.message


# --------------------------------------------------------------------------- views

SESSION_FORM = {
    "day": "2026-03-03",
    "start_time": "09:00",
    "end_time": "12:30",
    "module_id": "",
    "title": "Countering migrant smuggling",
    "mode": "in_person",
    "location": "Room 2",
    "online_url": "",
}


def test_add_session_view(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(timezone="Asia/Baku")
    module = make.module(cohort.programme, title="Migration and development")
    trainer = make.person(first_name="İlkin", last_name="Xudiyev")
    page = client.get(f"/cohorts/{cohort.id}/sessions/new").get_data(as_text=True)
    assert "Migration and development" in page
    assert "İlkin Xudiyev" in page
    assert 'value="2026-03-02"' in page  # the cohort's first day
    response = client.post(
        f"/cohorts/{cohort.id}/sessions/new",
        data={**SESSION_FORM, "module_id": str(module.id), "trainer_ids": [str(trainer.id)]},
    )
    assert response.status_code == 302
    (session,) = sessions_of(cohort)
    assert session.starts_at == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert session.module_id == module.id
    assert [p.id for p in session.trainers] == [trainer.id]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "08:00"}, "The end time must be after the start time"),
        ({"day": ""}, "Enter the date of the session."),
        ({"start_time": "9h"}, "time"),
        ({"title": "", "module_id": ""}, "Choose a module or enter a title."),
    ],
)
def test_add_session_bad_input(
    client: Any, login: Any, make: Any, changes: dict[str, str], message: str
) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort()
    response = client.post(f"/cohorts/{cohort.id}/sessions/new", data={**SESSION_FORM, **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert sessions_of(cohort) == []


def test_warnings_need_confirmation_in_the_form(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(timezone="Asia/Baku")
    make.session(
        cohort,
        title="Global Compact",
        starts_at=datetime(2026, 3, 3, 6, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
    )
    url = f"/cohorts/{cohort.id}/sessions/new"
    response = client.post(url, data=SESSION_FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "overlaps “Global Compact”" in html
    assert "Save anyway" in html
    assert len(sessions_of(cohort)) == 1
    digest = schedule.warnings_digest(
        schedule.schedule_warnings(
            cohort,
            [
                schedule.ProposedSession(
                    datetime(2026, 3, 3, 5, 0, tzinfo=UTC), datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
                )
            ],
        )
    )
    assert f'value="{digest}"' in html
    # The acknowledged digest without pressing "Save anyway" still saves nothing.
    client.post(url, data={**SESSION_FORM, "acknowledged": digest})
    assert len(sessions_of(cohort)) == 1
    response = client.post(url, data={**SESSION_FORM, "acknowledged": digest, "confirm": "y"})
    assert response.status_code == 302
    assert len(sessions_of(cohort)) == 2


def test_add_series_view(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(start_date=date(2026, 3, 2), end_date=date(2026, 3, 13))
    page = client.get(f"/cohorts/{cohort.id}/sessions/series").get_data(as_text=True)
    assert "Monday" in page and "Sunday" in page
    data = {
        **{k: v for k, v in SESSION_FORM.items() if k != "day"},
        "start_date": "2026-03-02",
        "end_date": "2026-03-13",
        "weekdays": ["0", "1", "2", "3", "4"],
        "interval_weeks": "1",
    }
    response = client.post(f"/cohorts/{cohort.id}/sessions/series", data=data)
    assert response.status_code == 302
    assert len(sessions_of(cohort)) == 10
    response = client.post(f"/cohorts/{cohort.id}/sessions/series", data={**data, "weekdays": []})
    assert "Tick at least one weekday." in response.get_data(as_text=True)
    assert len(sessions_of(cohort)) == 10


def test_edit_cancel_delete_views(client: Any, login: Any, make: Any) -> None:
    login(Role.ADMIN)
    cohort = make.cohort(timezone="Asia/Baku")
    session = make.session(
        cohort,
        title="Protection",
        starts_at=datetime(2026, 3, 5, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
    )
    base = f"/cohorts/{cohort.id}/sessions/{session.id}"
    page = client.get(f"{base}/edit").get_data(as_text=True)
    assert 'value="2026-03-05"' in page and 'value="09:00"' in page
    response = client.post(
        f"{base}/edit",
        data={**SESSION_FORM, "day": "2026-03-06", "start_time": "10:00", "end_time": "11:00"},
    )
    assert response.status_code == 302
    assert session.starts_at == datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
    assert client.post(f"{base}/cancel").status_code == 302
    assert session.status == SessionStatus.CANCELLED
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "<del>Countering migrant smuggling</del>" in html
    assert client.post(f"{base}/uncancel").status_code == 302
    assert session.status == SessionStatus.SCHEDULED
    make.attendance(session, make.enrolment(cohort))
    response = client.post(f"{base}/delete", follow_redirects=True)
    assert "Cancel it instead" in response.get_data(as_text=True)
    assert db.session.get(Session, session.id) is not None


def test_series_times_are_stored_per_day(db_session: Any, make: Any) -> None:
    """A series in the week the clocks go forward (29 March 2026) stays at 09:00 local."""
    cohort = make.cohort(
        timezone="Europe/Amsterdam", start_date=date(2026, 3, 23), end_date=date(2026, 4, 3)
    )
    created = session_services.add_series(
        cohort, series(start_date=date(2026, 3, 23), end_date=date(2026, 4, 3)), actor=None
    )
    offsets = {s.starts_at.astimezone(AMS).utcoffset() for s in created}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}
    assert {s.starts_at.astimezone(AMS).time() for s in created} == {time(9, 0)}
