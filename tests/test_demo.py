"""The demo data loader: what a newcomer sees after ``make run``, loaded any day, any number
of times."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from trainingmgr import demo
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.certificates.services import find_by_code
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    CohortStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.demo.fields import column_values
from trainingmgr.extensions import db
from trainingmgr.home import services as home
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import (
    CertificateLanguage,
    PartnerRole,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
)

# A Wednesday, so the cohort under way has sessions on the day of loading.
WEDNESDAY = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def cohort(programme_code: str, name_part: str) -> Cohort:
    return db.session.scalars(
        sa.select(Cohort)
        .join(Programme)
        .where(Programme.code == programme_code, Cohort.name.contains(name_part))
    ).one()


def person(email: str) -> Person:
    return db.session.scalars(sa.select(Person).where(Person.email == email)).one()


def test_loading_twice_or_on_another_day_creates_nothing_new(db_session: Any) -> None:
    first = demo.load()
    counts = row_counts()
    assert first.startswith("Demo data: created 5 programmes")
    assert counts["people"] > 200 and counts["attendance_records"] > 1000

    assert demo.load().startswith("Demo data already loaded: nothing created.")
    assert row_counts() == counts
    demo.load(now=datetime.now(UTC) + timedelta(days=45))
    assert row_counts() == counts


def test_a_partly_present_demo_is_completed_without_duplicates(db_session: Any) -> None:
    demo.load()
    counts = row_counts()
    course = cohort("MMPAF", "Course 4")
    db_session.execute(sa.delete(Enrolment).where(Enrolment.cohort_id == course.id))
    db_session.execute(sa.delete(Session).where(Session.cohort_id == course.id))
    db_session.delete(course)
    db_session.commit()
    assert row_counts()["cohorts"] == counts["cohorts"] - 1

    summary = demo.load()

    assert "created 1 cohort, 10 sessions, 34 enrolments" in summary
    assert "Already there, left as they were: 5 programmes, 37 modules, 8 cohorts" in summary
    assert row_counts() == counts


def test_existing_people_and_accounts_are_reused_not_duplicated(db_session: Any, make: Any) -> None:
    ivan = make.person(first_name="Ivan", last_name="Petrov", email="ivan.petrov@example.org")
    admin = make.user(Role.ADMIN, email="admin@example.org")
    db_session.commit()

    summary = demo.load()

    assert "Already there, left as they were:" in summary
    assert "1 person, 1 account" in summary
    tot = cohort("RTCM-TOT", "Baku")
    assert ivan.id in {e.person_id for e in tot.enrolments}
    assert (ivan.first_name, ivan.last_name) == ("Ivan", "Petrov")  # left as it was
    users = db_session.scalars(sa.select(User).where(User.email == "admin@example.org")).all()
    assert users == [admin]


def test_the_command_prints_the_summary_and_the_demo_sign_ins(app: Flask, db_session: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data: created 5 programmes" in first.output
    assert "nothing created" in second.output
    for email, _role in demo.DEMO_ACCOUNTS:
        assert email in first.output and email in second.output
    assert "demo-password" in first.output


def test_the_demo_is_refused_in_production_and_writes_nothing(
    app: Flask, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "TRAININGMGR_ENV", "production")
    before = row_counts()

    result = app.test_cli_runner().invoke(args=["demo"])

    assert result.exit_code != 0
    assert "Refused: TRAININGMGR_ENV is production" in result.output
    assert "create-user" in result.output  # says what to do instead
    assert "demo-password" not in result.output
    assert row_counts() == before
    assert db_session.scalar(sa.select(User).where(User.email == "admin@example.org")) is None


# e-mail -> (role, home page, texts shown there)
HOMES = {
    "admin@example.org": (Role.ADMIN, "/dashboard", ["MMDP", "RTCM-TOT"]),
    "coordinator@example.org": (
        Role.COORDINATOR,
        "/dashboard",
        [
            "Migration Management Diploma Programme",
            "Fifth edition",
            "Europe/Amsterdam",
            'data-testid="next-sessions"',
        ],
    ),
    "trainer@example.org": (
        Role.TRAINER,
        "/trainer",
        ['data-testid="upcoming-sessions"', "Miqrantların qaçaqmalçılığına qarşı mübarizə"],
    ),
    "participant@example.org": (
        Role.PARTICIPANT,
        "/me",
        ["Ləman Əliyeva", "RTCM national roll-out trainings", "Azerbaijan: Baku", "Present"],
    ),
}


@pytest.mark.parametrize("email", list(HOMES))
def test_each_demo_account_signs_in_through_the_form_and_lands_on_its_home(
    client: FlaskClient, db_session: Any, email: str
) -> None:
    demo.load()
    role, home_path, shown = HOMES[email]
    user = db_session.scalars(sa.select(User).where(User.email == email)).one()
    # The trainer graduated from the training of trainers: a participant too (roles follow
    # enrolments and sessions); they land on the trainer's page.
    assert role in user.roles and user.stored_roles == {role}
    assert email in dict(demo.DEMO_ACCOUNTS)

    response = client.post(
        "/login", data={"email": email, "password": "demo-password"}, follow_redirects=True
    )

    assert response.status_code == 200
    assert response.request.path == home_path
    for text in shown:
        assert text in response.text


def test_the_trainer_and_the_participant_are_linked_to_their_people(db_session: Any) -> None:
    demo.load(now=WEDNESDAY)
    trainer = db_session.scalars(sa.select(User).where(User.email == demo.TRAINER_EMAIL)).one()
    participant = db_session.scalars(
        sa.select(User).where(User.email == demo.PARTICIPANT_EMAIL)
    ).one()
    assert participant.person.full_name == "Ləman Əliyeva"
    assert trainer.person.full_name == "Elvin Quliyev"

    # The trainer teaches in the MMDP and the Baku roll-out, before and after today.
    taught = db_session.scalars(
        sa.select(Session)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(session_trainers.c.person_id == trainer.person_id)
    ).all()
    for when in (lambda s: s.ends_at < WEDNESDAY, lambda s: s.starts_at > WEDNESDAY):
        assert {s.cohort.programme.code for s in taught if when(s)} == {"MMDP", "RTCM-RO"}
    upcoming = home.trainer_sessions(trainer.person_id, now=WEDNESDAY)
    assert {s.cohort.programme.code for s in upcoming} == {"MMDP", "RTCM-RO"}
    # Their latest MMDP session (yesterday afternoon) still waits for its attendance.
    latest = max((s for s in taught if s.ends_at < WEDNESDAY), key=lambda s: s.starts_at)
    assert latest.cohort.programme.code == "MMDP"
    assert latest.starts_at.date() == WEDNESDAY.date() - timedelta(days=1)
    assert not db_session.scalar(
        sa.select(sa.func.count()).where(AttendanceRecord.session_id == latest.id)
    )

    [overview] = home.participant_overview(participant.person_id).cohorts
    assert overview.enrolment.cohort.programme.kind == ProgrammeKind.ROLLOUT
    schedule = overview.past + overview.upcoming
    before = [item for item in schedule if item.session.ends_at < WEDNESDAY]
    after = [item for item in schedule if item.session.starts_at > WEDNESDAY]
    assert before and after
    assert all(item.status is not None for item in before)
    assert all(item.status is None for item in after)


def test_dates_follow_the_day_of_loading(db_session: Any) -> None:
    demo.load(now=WEDNESDAY)
    today = WEDNESDAY.date()
    mmdp = cohort("MMDP", "Fifth edition")
    assert mmdp.start_date < today < mmdp.end_date
    assert mmdp.status == CohortStatus.OPEN
    local_days = {s.starts_at.astimezone(mmdp.tz).date() for s in mmdp.sessions}
    assert today in local_days and today + timedelta(days=1) in local_days

    cohorts = db_session.scalars(sa.select(Cohort)).all()
    finished = [c for c in cohorts if c.end_date < today]
    upcoming = [c for c in cohorts if c.start_date > today]
    assert {c.status for c in finished} == {CohortStatus.CLOSED}
    assert len(finished) >= 3 and len(upcoming) >= 2

    # Attendance exists for past sessions only, and not yet for today's.
    ends = db_session.scalars(
        sa.select(Session.ends_at).join(AttendanceRecord, AttendanceRecord.session_id == Session.id)
    ).all()
    assert max(ends) < datetime.combine(today, time(0), ZoneInfo("Europe/Amsterdam"))
    assert min(ends) > WEDNESDAY - timedelta(days=120)


def test_loading_in_a_weekend_still_gives_a_roll_out_under_way(db_session: Any) -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    demo.load(now=saturday)
    baku = cohort("RTCM-RO", "Baku")
    assert baku.sessions[0].ends_at < saturday < baku.sessions[-1].starts_at
    assert all(s.starts_at.astimezone(baku.tz).weekday() < 5 for s in baku.sessions)


def test_sessions_are_weekday_local_times_in_each_cohort_zone(db_session: Any) -> None:
    demo.load(now=WEDNESDAY)
    zones = {c.timezone for c in db_session.scalars(sa.select(Cohort))}
    assert {"Europe/Amsterdam", "Asia/Baku", "Africa/Banjul", "Europe/Brussels"} <= zones
    starts = {time(9, 0), time(13, 30), time(10, 0), time(13, 0), time(9, 30), time(14, 0)}
    for s in db_session.scalars(sa.select(Session)):
        local = s.starts_at.astimezone(ZoneInfo(s.cohort.timezone))
        assert s.starts_at.utcoffset() == timedelta(0)
        assert local.time() in starts and local.weekday() < 5
        assert s.module is not None and s.module.programme_id == s.cohort.programme_id
        assert s.trainers
    # 09:00 in Maastricht is 07:00 UTC in summer time (October), 08:00 UTC in winter;
    # in Baku it is 05:00 UTC all year.
    mmdp = cohort("MMDP", "Fifth edition")
    assert mmdp.sessions[0].starts_at.time() == time(7, 0)
    assert mmdp.sessions[-1].starts_at.time() == time(12, 30)
    assert cohort("RTCM-TOT", "Baku").sessions[0].starts_at.time() == time(5, 0)


def test_programmes_have_their_curricula_partners_and_funding(db_session: Any) -> None:
    demo.load()
    programmes = {p.code: p for p in db_session.scalars(sa.select(Programme))}
    assert set(programmes) == {"MMDP", "MMPAF", "GAMBIA", "RTCM-TOT", "RTCM-RO"}
    mmdp = programmes["MMDP"]
    assert mmdp.kind == ProgrammeKind.DIPLOMA
    assert (str(mmdp.budget), mmdp.currency) == ("1319151.36", "EUR")
    partners = {(p.name, p.role, p.funding_share) for p in mmdp.partners}
    assert ("UNU-MERIT", PartnerRole.PARTNER, None) in partners
    assert ("Maastricht University", PartnerRole.PARTNER, None) in partners
    [funder] = [p for p in mmdp.partners if p.role == PartnerRole.FUNDER]
    assert "AMIF" in funder.name and str(funder.funding_share) == "94.91"
    assert [m.code for m in mmdp.modules] == [f"MMDP-0{i}" for i in range(1, 9)]
    assert [m.title for m in mmdp.modules][:3] == [
        "Scale and nature of international migration",
        "International migration law",
        "International protection",
    ]
    assert all(m.competence_area and m.hours > 0 for m in mmdp.modules)
    assert sum(m.hours for m in mmdp.modules) == 420

    mmpaf = programmes["MMPAF"]
    assert len(mmpaf.cohorts) == 4
    assert {c.delivery_mode for c in mmpaf.cohorts} == {DeliveryMode.ONLINE}
    seated = db_session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(Enrolment.person_id)))
        .join(Cohort)
        .where(Cohort.programme_id == mmpaf.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
    ).one()
    assert tuple(seated) == (120, 120)

    [gambia] = programmes["GAMBIA"].cohorts
    assert (gambia.city, gambia.timezone, gambia.end_date - gambia.start_date) == (
        "Banjul",
        "Africa/Banjul",
        timedelta(days=11),
    )
    assert len([e for e in gambia.enrolments if e.status != EnrolmentStatus.WITHDRAWN]) == 15

    [tot] = programmes["RTCM-TOT"].cohorts
    assert programmes["RTCM-TOT"].kind == ProgrammeKind.TRAINING_OF_TRAINERS
    assert tot.certificate_language == CertificateLanguage.EN_AZ
    assert (tot.city, tot.timezone, len(tot.sessions)) == ("Baku", "Asia/Baku", 10)
    assert len({e.person.country for e in tot.enrolments}) == 11


def test_roll_outs_point_at_the_tot_and_are_delivered_by_its_graduates(db_session: Any) -> None:
    demo.load()
    tot = cohort("RTCM-TOT", "Baku")
    rollouts = db_session.scalars(
        sa.select(Cohort).join(Programme).where(Programme.kind == ProgrammeKind.ROLLOUT)
    ).all()
    assert len(rollouts) == 2
    assert {c.parent_cohort_id for c in rollouts} == {tot.id}
    assert {c.language for c in rollouts} == {"az", "ru"}
    assert all(len(c.sessions) == 4 for c in rollouts)
    graduates = {e.person_id for e in tot.enrolments if e.status == EnrolmentStatus.COMPLETED}
    trainers = set(
        db_session.scalars(
            sa.select(session_trainers.c.person_id)
            .join(Session, Session.id == session_trainers.c.session_id)
            .where(Session.cohort_id.in_([c.id for c in rollouts]))
        )
    )
    assert len(trainers) == 6
    assert trainers <= graduates


def _scripts(text: str) -> set[str]:
    return {
        unicodedata.name(ch).split()[0]
        for ch in text
        if unicodedata.category(ch) in ("Lu", "Ll", "Lo")
    }


def test_about_200_participants_named_in_their_own_scripts(db_session: Any) -> None:
    demo.load()
    participants = db_session.scalars(
        sa.select(Person).where(Person.id.in_(sa.select(Enrolment.person_id)))
    ).all()
    assert 200 <= len(participants) <= 260
    assert len({p.country for p in participants}) >= 20
    assert {p.sex.value for p in participants} == {"female", "male"}
    assert all(p.organisation and p.position and p.email for p in participants)

    expected = {
        "participant@example.org": ("Ləman", "Əliyeva"),
        "nino.beridze@example.org": ("ნინო", "ბერიძე"),
        "jamshed.qodirov@example.org": ("Ҷамшед", "Қодиров"),
        "hanna.yizhakevych@example.org": ("Ґанна", "Їжакевич"),
        "aigul.osmonova@example.org": ("Айгүл", "Осмонова"),
        "otkir.hoshimov@example.org": ("Oʻtkir", "Hoshimov"),
        "anamaria.turcanu@example.org": ("Ana-Maria", "Țurcanu"),
        "merdan.yazmyradow@example.org": ("Merdan", "Ýazmyradow"),
    }
    for email, names in expected.items():
        db_session.expire_all()
        p = person(email)
        assert (p.first_name, p.last_name) == names
    assert person("nino.beridze@example.org").name_latin == "Nino Beridze"

    scripts = set().union(*(_scripts(p.first_name + p.last_name) for p in participants))
    assert {"LATIN", "CYRILLIC", "GEORGIAN", "ARMENIAN", "ARABIC", "ETHIOPIC"} <= scripts
    # Names outside the Latin script carry a Latin spelling for certificates.
    for p in participants:
        if _scripts(p.first_name + p.last_name) - {"LATIN"}:
            assert p.name_latin and _scripts(p.name_latin) == {"LATIN"}
    # Search finds Ləman without the Azerbaijani letters.
    found = db_session.scalars(
        sa.select(Person.email).where(Person.search_text.contains("aliyeva"))
    ).all()
    assert "participant@example.org" in found


def test_enrolment_statuses_and_attendance_are_realistic(db_session: Any) -> None:
    demo.load(now=WEDNESDAY)
    enrolments = db_session.scalars(sa.select(Enrolment)).all()
    by_status: dict[EnrolmentStatus, int] = {}
    for e in enrolments:
        by_status[e.status] = by_status.get(e.status, 0) + 1
    assert by_status[EnrolmentStatus.ENROLLED] > len(enrolments) / 2
    assert {
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.NOT_COMPLETED,
        EnrolmentStatus.APPLIED,
    } <= set(by_status)
    for c in db_session.scalars(sa.select(Cohort)):
        positions = sorted(
            e.waitlist_position for e in c.enrolments if e.status == EnrolmentStatus.WAITLISTED
        )
        assert positions == list(range(1, len(positions) + 1))
        finished = c.end_date < WEDNESDAY.date()
        statuses = {e.status for e in c.enrolments}
        if finished:
            assert EnrolmentStatus.ENROLLED not in statuses
        else:
            assert not statuses & {EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED}
        assert len([e for e in c.enrolments if e.status in ACTIVE_ENROLMENT]) <= c.capacity

    records = db_session.scalars(sa.select(AttendanceRecord)).all()
    counts = {s: len([r for r in records if r.status == s]) for s in AttendanceStatus}
    assert counts[AttendanceStatus.PRESENT] > 0.85 * len(records)
    assert all(counts.values())
    assert all(
        r.cohort_id == r.session.cohort_id == r.enrolment.cohort_id
        and r.recorded_by_id is not None
        and r.recorded_at > r.session.ends_at
        for r in records
    )
    trainer = db_session.scalars(sa.select(User).where(User.email == demo.TRAINER_EMAIL)).one()
    assert any(r.recorded_by_id == trainer.id for r in records)

    # Completion follows attendance: the completed attended at least the cohort's minimum.
    tot = cohort("RTCM-TOT", "Baku")
    for e in tot.enrolments:
        attended = len(
            [
                r
                for r in records
                if r.enrolment_id == e.id
                and r.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
            ]
        )
        rate = attended * 100 / len(tot.sessions)
        assert (rate >= tot.min_attendance_pct) == (e.status == EnrolmentStatus.COMPLETED)


def test_finished_cohorts_have_their_certificates_and_no_mail_is_left_to_send(
    db_session: Any,
) -> None:
    demo.load(now=WEDNESDAY)

    issued = db.session.scalars(sa.select(Certificate)).all()
    finished = {
        c.id for c in db.session.scalars(sa.select(Cohort)) if c.end_date < WEDNESDAY.date()
    }
    assert len(issued) > 50
    assert {c.cohort_id for c in issued} == finished
    assert all(c.status == CertificateStatus.VALID for c in issued)
    # Printed with the demo organisation's logo and its two signatories.
    assert issued[0].snapshot["logo"]
    assert [s["name"] for s in issued[0].snapshot["signatories"]] == [
        "Dr. Aysel Hasanova",
        "Jan de Vries",
    ]
    assert find_by_code(issued[0].verification_code.lower().replace("-", " ")) == issued[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_graduate_downloads_a_certificate_and_an_enrolled_person_gets_in_by_link(
    client: FlaskClient, db_session: Any
) -> None:
    demo.load(now=WEDNESDAY)
    response = client.post(
        "/login",
        data={"email": demo.GRADUATE_EMAIL, "password": "demo-password"},
        follow_redirects=True,
    )
    assert response.request.path == "/me"
    graduate = db_session.scalars(sa.select(User).where(User.email == demo.GRADUATE_EMAIL)).one()
    [pdf] = re.findall(r'href="(/certificates/\d+\.pdf)"', response.text)[:1]
    download = client.get(pdf)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert graduate.roles == {Role.PARTICIPANT}

    client.post("/logout")
    kofi = person(demo.NEW_PARTICIPANT_EMAIL)
    assert db_session.scalar(sa.select(User.id).where(User.person_id == kofi.id)) is None
    client.post("/login/link", data={"email": demo.NEW_PARTICIPANT_EMAIL})
    [mail] = db_session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link")
    ).all()
    assert demo.NEW_PARTICIPANT_EMAIL in mail.recipient
    assert {e for e, _ in demo.ACCESS_ACCOUNTS} == {demo.GRADUATE_EMAIL, demo.NEW_PARTICIPANT_EMAIL}


def test_the_demo_data_files_are_read_as_columns_and_a_typo_is_named() -> None:
    values = column_values(
        ProgrammePartner, {"name": "AMIF", "role": "funder", "funding_share": "94.91"}
    )
    assert values["role"] is PartnerRole.FUNDER
    assert values["funding_share"] == Decimal("94.91")  # exact, not a float
    with pytest.raises(ValueError, match="ProgrammePartner has no column 'fundng_share'"):
        column_values(ProgrammePartner, {"name": "AMIF", "fundng_share": "94.91"})
