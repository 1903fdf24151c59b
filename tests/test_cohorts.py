"""Cohorts: creating, editing, closing, archiving, deleting, the list and the cohort page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts import listing, schedule, services
from trainingmgr.cohorts import sessions as session_services
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    DeliveryMode,
    EnrolmentStatus,
    Session,
    SessionStatus,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.programmes.models import CertificateLanguage


def cohort_input(**kw: Any) -> services.CohortInput:
    values: dict[str, Any] = {
        "name": "MMDP 2026",
        "start_date": date(2026, 9, 1),
        "end_date": date(2026, 11, 30),
        "timezone": "Europe/Amsterdam",
        "venue": "UNU-MERIT",
        "city": "Maastricht",
        "country": "nl",
        "capacity": 50,
    }
    values.update(kw)
    return services.CohortInput(**values)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def audit_actions(object_type: str, object_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


# --------------------------------------------------------------------------- services


def test_create_cohort_normalises_and_audits(db_session: Any, make: Any) -> None:
    actor = make.user()
    programme = make.programme(default_certificate_language=CertificateLanguage.EN_RU)
    module = make.module(programme)
    cohort = services.create_cohort(
        programme, cohort_input(name="  MMDP 2026 ", required_module_ids=[module.id]), actor=actor
    )
    assert cohort.name == "MMDP 2026"
    assert cohort.country == "NL"
    assert cohort.status == CohortStatus.PLANNED
    assert [m.id for m in cohort.required_modules] == [module.id]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.object_id == cohort.id))
    assert event.action == "cohort.create"
    assert event.actor_id == actor.id
    assert event.programme_id == programme.id


def test_defaults_come_from_programme_and_its_cohorts(db_session: Any, make: Any, app: Any) -> None:
    programme = make.programme(
        default_min_attendance_pct=75,
        default_min_hours=Decimal("30"),
        default_certificate_language=CertificateLanguage.EN_AZ,
    )
    defaults = services.cohort_defaults(programme)
    assert defaults.timezone == app.config["DEFAULT_TIMEZONE"]
    assert defaults.min_attendance_pct == 75
    assert defaults.min_hours == Decimal("30")
    assert defaults.certificate_language == CertificateLanguage.EN_AZ
    make.cohort(programme, timezone="Africa/Banjul", start_date=date(2026, 1, 5))
    assert services.cohort_defaults(programme).timezone == "Africa/Banjul"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"timezone": "Europe/Maastricht"}, "timezone", "not a known time zone"),
        ({"timezone": ""}, "timezone", "not a known time zone"),
        ({"end_date": date(2026, 8, 31)}, "end_date", "before the start date"),
        ({"capacity": 0}, "capacity", "at least 1"),
        ({"country": "XX"}, "country", "not an ISO country code"),
        ({"online_url": "zoom meeting"}, "online_url", "https://"),
        ({"min_attendance_pct": 120}, "min_attendance_pct", "0 to 100"),
        ({"late_grace_minutes": -5}, "late_grace_minutes", "0 to 600"),
        ({"name": "  "}, "name", "Enter a name"),
        ({"language": "fr"}, "language", "language"),
    ],
)
def test_create_cohort_refuses_bad_input(
    db_session: Any, make: Any, changes: dict[str, Any], field: str, fragment: str
) -> None:
    programme = make.programme()
    with pytest.raises(DomainError) as info:
        services.create_cohort(programme, cohort_input(**changes), actor=make.user())
    assert info.value.field == field
    assert fragment in info.value.message
    assert count(Cohort) == 0


def test_name_is_unique_within_programme_only(db_session: Any, make: Any) -> None:
    programme = make.programme()
    make.cohort(programme, name="Baku 2026")
    with pytest.raises(DomainError) as info:
        services.create_cohort(programme, cohort_input(name="baku 2026"), actor=None)
    assert info.value.field == "name"
    assert "already has a cohort" in info.value.message
    other = services.create_cohort(make.programme(), cohort_input(name="Baku 2026"), actor=None)
    assert other.id is not None


def test_required_modules_must_belong_to_the_programme(db_session: Any, make: Any) -> None:
    foreign = make.module()
    with pytest.raises(DomainError) as info:
        services.create_cohort(
            make.programme(), cohort_input(required_module_ids=[foreign.id]), actor=None
        )
    assert info.value.field == "required_module_ids"


def test_capacity_below_current_enrolment_is_refused(db_session: Any, make: Any) -> None:
    cohort = make.cohort(capacity=10)
    for _ in range(3):
        make.enrolment(cohort)
    make.enrolment(cohort, status=EnrolmentStatus.WITHDRAWN)
    data = services.cohort_input(cohort)
    data.capacity = 2
    with pytest.raises(DomainError) as info:
        services.update_cohort(cohort, data, actor=None)
    assert info.value.field == "capacity"
    assert "below current enrolment (3 enrolled)" in info.value.message
    data.capacity = 3
    services.update_cohort(cohort, data, actor=None)
    assert cohort.capacity == 3


def test_update_audits_only_what_changed(db_session: Any, make: Any) -> None:
    cohort = make.cohort(city="Baku")
    data = services.cohort_input(cohort)
    data.city = "Ganja"
    services.update_cohort(cohort, data, actor=make.user())
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cohort.update"))
    assert event.changes == {"city": ["Baku", "Ganja"]}


def test_parent_cohort_rules(db_session: Any, make: Any) -> None:
    tot = make.cohort(name="ToT")
    rollout = make.cohort(name="Roll-out", parent_cohort=tot)
    second = make.cohort(name="Second wave", parent_cohort=rollout)
    # itself
    data = services.cohort_input(tot)
    data.parent_cohort_id = tot.id
    with pytest.raises(DomainError) as info:
        services.update_cohort(tot, data, actor=None)
    assert info.value.field == "parent_cohort_id"
    # a loop through its own roll-outs
    data.parent_cohort_id = second.id
    with pytest.raises(DomainError) as info:
        services.update_cohort(tot, data, actor=None)
    assert "loop" in info.value.message
    assert tot.parent_cohort_id is None
    # a cohort of another programme is fine
    other = make.cohort()
    data.parent_cohort_id = other.id
    services.update_cohort(tot, data, actor=None)
    assert tot.parent_cohort_id == other.id
    # an unknown one is not
    data.parent_cohort_id = 999_999
    with pytest.raises(DomainError):
        services.update_cohort(tot, data, actor=None)


def test_status_changes(db_session: Any, make: Any) -> None:
    cohort = make.cohort(end_date=date(2026, 3, 13))
    services.change_status(cohort, "close", actor=None)
    assert cohort.status == CohortStatus.CLOSED
    services.change_status(cohort, "archive", actor=None)
    assert cohort.status == CohortStatus.ARCHIVED
    with pytest.raises(DomainError):
        services.change_status(cohort, "close", actor=None)
    with pytest.raises(DomainError) as info:
        services.update_cohort(cohort, services.cohort_input(cohort), actor=None)
    assert "archived" in info.value.message
    services.change_status(cohort, "unarchive", actor=None, today=date(2026, 6, 1))
    assert cohort.status == CohortStatus.CLOSED
    assert audit_actions("cohorts", cohort.id) == [
        "cohort.close",
        "cohort.archive",
        "cohort.unarchive",
    ]


def test_delete_refused_with_enrolments(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    make.enrolment(cohort)
    with pytest.raises(DomainError) as info:
        services.delete_cohort(cohort, actor=None)
    assert "Archive it instead" in info.value.message
    assert "1 enrolments" in info.value.message
    assert db.session.get(Cohort, cohort.id) is not None


def test_delete_removes_an_unused_cohort_and_its_sessions(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    child = make.cohort(parent_cohort=cohort)
    make.session(cohort, trainers=[make.person()])
    make.session(cohort)
    cohort_id = cohort.id
    services.delete_cohort(cohort, actor=make.user())
    db.session.expire_all()
    assert db.session.get(Cohort, cohort_id) is None
    assert count(Session) == 0
    assert db.session.get(Cohort, child.id).parent_cohort_id is None
    assert audit_actions("cohorts", cohort_id) == ["cohort.delete"]


def test_list_filters(db_session: Any, make: Any) -> None:
    programme = make.programme()
    today = date(2026, 5, 1)
    past = make.cohort(programme, start_date=date(2026, 1, 5), end_date=date(2026, 1, 9))
    current = make.cohort(programme, start_date=date(2026, 4, 27), end_date=date(2026, 5, 8))
    upcoming = make.cohort(start_date=date(2026, 9, 1), end_date=date(2026, 9, 5))
    archived = make.cohort(programme, status=CohortStatus.ARCHIVED)

    def names(**kw: Any) -> set[int]:
        page = listing.list_cohorts(listing.CohortFilter(**kw), today=today)
        return {row.cohort.id for row in page.items}

    assert names() == {past.id, current.id, upcoming.id}
    assert archived.id in names(status="all")
    assert names(status="archived") == {archived.id}
    assert names(programme_id=programme.id) == {past.id, current.id}
    assert names(period="current") == {current.id}
    assert names(period="upcoming") == {upcoming.id}
    assert names(period="past") == {past.id}
    assert names(date_from=date(2026, 5, 5), date_to=date(2026, 12, 31)) == {
        current.id,
        upcoming.id,
    }


def test_list_counts(db_session: Any, make: Any) -> None:
    cohort = make.cohort(capacity=2)
    make.enrolment(cohort)
    make.enrolment(cohort, status=EnrolmentStatus.COMPLETED)
    make.enrolment(cohort, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    make.session(cohort)
    make.session(cohort, status=SessionStatus.CANCELLED)
    (row,) = listing.list_cohorts(listing.CohortFilter()).items
    assert (row.enrolled, row.waitlisted, row.sessions) == (2, 1, 1)


# --------------------------------------------------------------------------- views

COHORT_FORM = {
    "name": "RTCM roll-out Ganja",
    "start_date": "2026-10-05",
    "end_date": "2026-10-06",
    "timezone": "Asia/Baku",
    "venue": "Regional Training Centre",
    "city": "Ganja",
    "country": "AZ",
    "delivery_mode": "in_person",
    "online_url": "",
    "capacity": "25",
    "language": "az",
    "certificate_language": "en+az",
    "min_attendance_pct": "80",
    "min_hours": "12",
    "late_grace_minutes": "10",
    "parent_cohort_id": "",
}


def test_create_form_shows_defaults(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    programme = make.programme(code="RTCM")
    make.module(programme, code="M1", title="Readmission")
    response = client.get(f"/cohorts/new?programme_id={programme.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="Europe/Amsterdam"' in html
    assert '<datalist id="timezones">' in html
    assert "Readmission" in html


def test_create_without_programme_lists_programmes(client: Any, login: Any, make: Any) -> None:
    login(Role.ADMIN)
    programme = make.programme(code="MMPAF")
    response = client.get("/cohorts/new")
    assert response.status_code == 200
    assert f"/cohorts/new?programme_id={programme.id}" in response.get_data(as_text=True)


def test_create_through_the_form(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    programme = make.programme()
    tot = make.cohort(name="ToT Baku")
    response = client.post(
        f"/cohorts/new?programme_id={programme.id}",
        data={**COHORT_FORM, "parent_cohort_id": str(tot.id)},
    )
    assert response.status_code == 302
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "RTCM roll-out Ganja"))
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}")
    assert cohort.timezone == "Asia/Baku"
    assert cohort.capacity == 25
    assert cohort.min_hours == Decimal("12")
    assert cohort.parent_cohort_id == tot.id
    assert cohort.certificate_language == CertificateLanguage.EN_AZ


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Asia/Ganja"}, "is not a known time zone"),
        ({"end_date": "2026-10-01"}, "The end date is before the start date"),
        ({"capacity": "0"}, "Capacity must be at least 1"),
        ({"start_date": "05/10/2026"}, "date"),
        ({"name": ""}, "Enter a name for the cohort."),
    ],
)
def test_create_form_bad_input_writes_nothing(
    client: Any, login: Any, make: Any, changes: dict[str, str], message: str
) -> None:
    login(Role.COORDINATOR)
    programme = make.programme()
    before = count(Cohort)
    response = client.post(
        f"/cohorts/new?programme_id={programme.id}", data={**COHORT_FORM, **changes}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert "is-invalid" in html
    assert count(Cohort) == before


def test_edit_capacity_below_enrolment_shows_message(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(capacity=5, name="Gambia 2026", city="Banjul")
    for _ in range(4):
        make.enrolment(cohort)
    form = {**COHORT_FORM, "name": "Gambia 2026", "capacity": "3", "city": "Serekunda"}
    response = client.post(f"/cohorts/{cohort.id}/edit", data=form)
    assert response.status_code == 200
    assert "below current enrolment (4 enrolled)" in response.get_data(as_text=True)
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort.id)
    assert (cohort.capacity, cohort.city) == (5, "Banjul")


def test_edit_form_prefilled_and_saves(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(name="Online week 1", delivery_mode=DeliveryMode.ONLINE)
    response = client.get(f"/cohorts/{cohort.id}/edit")
    assert 'value="Online week 1"' in response.get_data(as_text=True)
    response = client.post(
        f"/cohorts/{cohort.id}/edit", data={**COHORT_FORM, "name": "Online week 1 (EN)"}
    )
    assert response.status_code == 302
    assert db.session.get(Cohort, cohort.id).name == "Online week 1 (EN)"


def test_status_and_delete_views(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort()
    make.enrolment(cohort)
    response = client.post(f"/cohorts/{cohort.id}/status", data={"action": "close"})
    assert response.status_code == 302
    assert db.session.get(Cohort, cohort.id).status == CohortStatus.CLOSED
    response = client.post(f"/cohorts/{cohort.id}/delete", follow_redirects=True)
    assert "Archive it instead" in response.get_data(as_text=True)
    assert db.session.get(Cohort, cohort.id) is not None
    response = client.post(f"/cohorts/{cohort.id}/status", data={"action": "reopen"})
    assert response.status_code == 302

    empty = make.cohort()
    response = client.post(f"/cohorts/{empty.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cohorts/")
    assert db.session.get(Cohort, empty.id) is None


def test_detail_page_is_the_hub(client: Any, login: Any, make: Any, app: Any) -> None:
    login(Role.COORDINATOR)
    programme = make.programme(code="MMDP")
    module = make.module(programme, code="IML", title="International migration law")
    cohort = make.cohort(programme, name="MMDP 2026", timezone="Europe/Amsterdam", capacity=2)
    trainer = make.person(first_name="Ləman", last_name="Əliyeva")
    make.session(
        cohort,
        module=module,
        title="",
        starts_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 2, 11, 30, tzinfo=UTC),
        trainers=[trainer],
    )
    make.session(
        cohort,
        title="Field visit",
        status=SessionStatus.CANCELLED,
        starts_at=datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
    )
    make.enrolment(cohort, person=make.person(first_name="Şükrü", last_name="Yılmaz"))
    make.enrolment(cohort, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    response = client.get(f"/cohorts/{cohort.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "09:00–12:30" in html  # 08:00 UTC shown in Amsterdam (CET)
    assert "International migration law" in html
    assert "<del>Field visit</del>" in html
    assert "Ləman Əliyeva" in html
    assert "1 of 2 places taken" in html
    assert "1 waitlisted" in html
    assert f"/cohorts/{cohort.id}/calendar.ics" in html
    assert f"/cohorts/trainers/{trainer.id}/calendar.ics" in html
    assert "Şükrü Yılmaz" in html
    assert f"/cohorts/{cohort.id}/attendance" in html


def test_index_page(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    make.cohort(name="Banjul 2026", city="Banjul", timezone="Africa/Banjul")
    make.cohort(name="Hidden", status=CohortStatus.ARCHIVED)
    html = client.get("/cohorts/").get_data(as_text=True)
    assert "Banjul 2026" in html
    assert "Africa/Banjul" in html
    assert "Hidden" not in html
    html = client.get("/cohorts/?status=all&period=bogus&date_from=nonsense").get_data(as_text=True)
    assert "Hidden" in html


# --------------------------------------------------------------------------- access

ROUTES = [
    ("get", "/cohorts/"),
    ("get", "/cohorts/new"),
    ("get", "/cohorts/new?programme_id={programme}"),
    ("post", "/cohorts/new?programme_id={programme}"),
    ("get", "/cohorts/{cohort}"),
    ("get", "/cohorts/{cohort}/edit"),
    ("post", "/cohorts/{cohort}/edit"),
    ("post", "/cohorts/{cohort}/status"),
    ("post", "/cohorts/{cohort}/delete"),
    ("get", "/cohorts/{cohort}/sessions/new"),
    ("post", "/cohorts/{cohort}/sessions/new"),
    ("get", "/cohorts/{cohort}/sessions/series"),
    ("post", "/cohorts/{cohort}/sessions/series"),
    ("get", "/cohorts/{cohort}/sessions/{session}/edit"),
    ("post", "/cohorts/{cohort}/sessions/{session}/edit"),
    ("post", "/cohorts/{cohort}/sessions/{session}/cancel"),
    ("post", "/cohorts/{cohort}/sessions/{session}/uncancel"),
    ("post", "/cohorts/{cohort}/sessions/{session}/delete"),
    ("get", "/cohorts/{cohort}/calendar.ics"),
]


def _fill(url: str, **ids: int) -> str:
    return url.format(**ids)


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_trainers_and_participants_get_403(
    client: Any, login: Any, make: Any, role: Role, method: str, url: str
) -> None:
    login(role)
    session = make.session()
    target = _fill(
        url, programme=session.cohort.programme_id, cohort=session.cohort_id, session=session.id
    )
    response = getattr(client, method)(target)
    assert response.status_code == 403
    assert db.session.get(Session, session.id) is not None


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_is_sent_to_sign_in(client: Any, make: Any, method: str, url: str) -> None:
    session = make.session()
    target = _fill(
        url, programme=session.cohort.programme_id, cohort=session.cohort_id, session=session.id
    )
    response = getattr(client, method)(target)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "url"), [r for r in ROUTES if "{" in r[1]])
def test_unknown_ids_are_404(client: Any, login: Any, make: Any, method: str, url: str) -> None:
    login(Role.COORDINATOR)
    target = _fill(url, programme=987_654, cohort=987_654, session=987_654)
    assert getattr(client, method)(target).status_code == 404


def test_session_of_another_cohort_is_404(client: Any, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    session = make.session()
    other = make.cohort()
    assert client.get(f"/cohorts/{other.id}/sessions/{session.id}/edit").status_code == 404
    assert client.post(f"/cohorts/{other.id}/sessions/{session.id}/delete").status_code == 404
    assert db.session.get(Session, session.id) is not None


# --------------------------------------------------------------------------- queries


def _populate(make: Any, cohort: Cohort, enrolments: int, sessions: int) -> None:
    programme = cohort.programme
    modules = [make.module(programme) for _ in range(3)]
    trainers = [make.person() for _ in range(4)]
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    for i in range(sessions):
        make.session(
            cohort,
            module=modules[i % 3],
            starts_at=start + timedelta(days=i // 3, hours=4 * (i % 3)),
            ends_at=start + timedelta(days=i // 3, hours=4 * (i % 3) + 3),
            trainers=[trainers[i % 4], trainers[(i + 1) % 4]],
            status=SessionStatus.CANCELLED if i % 7 == 0 else SessionStatus.SCHEDULED,
        )
    for i in range(enrolments):
        make.enrolment(
            cohort,
            status=EnrolmentStatus.WAITLISTED if i % 10 == 9 else EnrolmentStatus.ENROLLED,
            waitlist_position=i if i % 10 == 9 else None,
        )
    make.cohort(programme, parent_cohort=cohort)
    cohort.required_modules = modules[:2]
    db.session.flush()


def test_cohort_page_query_count_is_bounded(
    client: Any, login: Any, make: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    parent = make.cohort()
    small = make.cohort(parent_cohort=parent)
    big = make.cohort(parent_cohort=parent)
    _populate(make, small, enrolments=3, sessions=3)
    _populate(make, big, enrolments=150, sessions=60)
    db.session.expire_all()
    client.get(f"/cohorts/{small.id}")  # warm-up
    counts = []
    for cohort_id in (small.id, big.id):
        db.session.expire_all()
        with count_queries() as q:
            response = client.get(f"/cohorts/{cohort_id}")
        assert response.status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[1] <= 15
    assert response.get_data(as_text=True).count('data-testid="session-') == 60


def test_cohort_list_query_count_is_bounded(
    client: Any, login: Any, make: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    programme = make.programme()

    def measure() -> int:
        db.session.expire_all()
        with count_queries() as q:
            assert client.get("/cohorts/").status_code == 200
        return q.count

    for _ in range(3):
        cohort = make.cohort(programme)
        make.enrolment(cohort)
        make.session(cohort)
    few = measure()
    for _ in range(60):
        cohort = make.cohort(make.programme())
        make.enrolment(cohort)
        make.session(cohort)
    assert measure() == few


def test_changing_the_zone_keeps_local_times(db_session: Any, make: Any) -> None:
    cohort = make.cohort(
        timezone="Europe/Amsterdam", start_date=date(2026, 10, 19), end_date=date(2026, 10, 30)
    )
    created = session_services.add_series(
        cohort,
        schedule.SeriesInput(
            start_date=date(2026, 10, 23),
            end_date=date(2026, 10, 26),
            weekdays=[0, 4],
            start_time=time(9, 0),
            end_time=time(12, 0),
            title="Legal mobility",
        ),
        actor=None,
    )
    data = services.cohort_input(cohort)
    data.timezone = "Asia/Baku"
    services.update_cohort(cohort, data, actor=None)
    baku = ZoneInfo("Asia/Baku")
    assert [s.starts_at.astimezone(baku).time() for s in created] == [time(9), time(9)]
    assert [s.starts_at.hour for s in created] == [5, 5]
    moved = db.session.scalars(
        sa.select(AuditEvent.object_id).where(AuditEvent.action == "session.update")
    ).all()
    assert sorted(moved) == sorted(s.id for s in created)


def test_changing_the_zone_refuses_a_time_that_does_not_exist(db_session: Any, make: Any) -> None:
    cohort = make.cohort(timezone="Asia/Baku")
    session = make.session(
        cohort,
        starts_at=datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 02:30 on 29 March in Baku
        ends_at=datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
    )
    data = services.cohort_input(cohort)
    data.timezone = "Europe/Amsterdam"  # 02:30 is skipped there that night
    with pytest.raises(DomainError) as info:
        services.update_cohort(cohort, data, actor=None)
    assert info.value.field == "timezone"
    assert cohort.timezone == "Asia/Baku"
    assert session.starts_at == datetime(2026, 3, 28, 22, 30, tzinfo=UTC)


def test_list_is_paginated(client: Any, login: Any, make: Any) -> None:
    programme = make.programme()
    for day in range(1, 6):
        make.cohort(
            programme,
            name=f"Week {day}",
            start_date=date(2026, 6, day),
            end_date=date(2026, 6, day + 4),
        )
    page = listing.list_cohorts(listing.CohortFilter(), page=2, per_page=2)
    assert (page.total, page.pages, page.page) == (5, 3, 2)
    assert [row.cohort.name for row in page.items] == ["Week 3", "Week 2"]
    login(Role.COORDINATOR)
    html = client.get(f"/cohorts/?programme_id={programme.id}&per_page=2&page=3").get_data(
        as_text=True
    )
    assert "Week 1" in html and "Week 2" not in html
    assert "Showing 5–5 of 5" in html


def test_every_error_of_the_cohort_form_is_shown_at_once(
    client: Any, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    programme = make.programme(code="RTCM")
    before = count(Cohort)
    form = {
        **COHORT_FORM,
        "start_date": "2026-10-06",
        "end_date": "2026-10-05",  # before the start
        "min_attendance_pct": "120",
        "min_hours": "-1",
        "country": "XX",
        "late_grace_minutes": "",
    }

    response = client.post(f"/cohorts/new?programme_id={programme.id}", data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = page.split('data-testid="form-errors"')[1].split("</div>")[0]
    assert "Correct 5 fields, then save again:" in summary
    for field_id, message in (
        ("end_date", "The end date is before the start date"),
        ("country", "is not an ISO country code"),
        ("min_attendance_pct", "enter a number from 0 to 100"),
        ("min_hours", "Minimum hours must be a number from 0 to 9999."),
        ("late_grace_minutes", "Enter the late grace in minutes"),
    ):
        assert f'href="#{field_id}"' in summary and message in summary
    assert count(Cohort) == before
