"""A participant signs in with an e-mailed link, sees their schedule and downloads their
certificate (desktop and phone). The link is read from a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import screenshot, sign_in, wider_than_window
from tests.e2e.mailbox import Mailbox
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.programmes.models import ProgrammeKind

pytestmark = pytest.mark.e2e

EMAIL = "leman@example.org"


@pytest.fixture
def participant(committed_db: Any, make: Any, account: Any) -> User:
    """Ləman, on a roll-out in Baku under way: two sessions behind her, two ahead."""
    today = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    programme = make.programme(
        code="RTCM-RO",
        title="Regional Training Centre on Migration: national roll-out",
        kind=ProgrammeKind.ROLLOUT,
    )
    cohort = make.cohort(
        programme=programme,
        name="RTCM roll-out Ganja 2026",
        start_date=(today - timedelta(days=2)).date(),
        end_date=(today + timedelta(days=2)).date(),
        timezone="Asia/Baku",
        venue="Ganja State University",
        city="Ganja",
    )
    trainer = make.person(first_name="Şükrü", last_name="Yılmaz")
    person = make.person(first_name="Ləman", last_name="Əliyeva", email=EMAIL)
    enrolment = make.enrolment(cohort=cohort, person=person)
    titles = [
        "International migration law and the protection of the rights of migrants",
        "Countering migrant smuggling",
        "Readmission",
        "Legal mobility and migration and development",
    ]
    for day, title in zip((-2, -1, 1, 2), titles, strict=True):
        session = make.session(
            cohort=cohort,
            title=title,
            starts_at=today + timedelta(days=day),
            ends_at=today + timedelta(days=day, hours=3, minutes=30),
        )
        session.trainers.append(trainer)
        if day < 0:
            make.attendance(
                session, enrolment, AttendanceStatus.PRESENT if day == -2 else AttendanceStatus.LATE
            )
    make.certificate(enrolment)
    committed_db.commit()
    return account(Role.PARTICIPANT, email=EMAIL, person=person)


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_participant_signs_in_with_an_emailed_link_and_sees_their_schedule(
    request: pytest.FixtureRequest, participant: User, mailbox: Mailbox, device: str
) -> None:
    page = request.getfixturevalue(device)
    name = "desktop" if device == "page" else "phone"

    page.goto("/login/link")
    expect(page.get_by_role("heading", name="Sign in with a link")).to_be_visible()
    page.get_by_label("E-mail").fill("Leman@Example.org")
    screenshot(page, f"portal-link-request-{name}")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_test_id("link-sent")).to_contain_text(EMAIL)
    screenshot(page, f"portal-link-sent-{name}")
    assert wider_than_window(page) == []

    link = mailbox.link(EMAIL, r"/login/link/[A-Za-z0-9_\-]+")
    mails = mailbox.messages_to(EMAIL)
    [sign_in_mail] = [m for m in mails if "/login/link/" in mailbox.text(m)]
    assert sign_in_mail["To"].addresses[0].display_name == "Ləman Əliyeva"
    # The certificate issued before also reached her, with its download and verification links.
    [certificate_mail] = [m for m in mails if "/verify/" in mailbox.text(m)]
    assert "/certificates/" in mailbox.text(certificate_mail)
    page.goto(link)
    expect(page.get_by_test_id("link-account")).to_have_text(EMAIL)
    screenshot(page, f"portal-link-confirm-{name}")
    assert wider_than_window(page) == []
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.get_by_role("heading", name="My training")).to_be_visible()
    expect(page.get_by_text("Welcome, Ləman Əliyeva.")).to_be_visible()
    next_session = page.get_by_test_id("next-session")
    expect(next_session).to_contain_text("Readmission")
    expect(next_session).to_contain_text("09:00–12:30")
    expect(page.get_by_text("Times are shown in Asia/Baku.")).to_be_visible()
    upcoming = page.locator('[data-testid^="upcoming-"] > li')
    expect(upcoming).to_have_count(2)
    expect(upcoming.first).to_contain_text("Next")
    # Past sessions with the attendance recorded; the list can be folded away.
    past = page.locator('[data-testid^="past-"] > li')
    expect(past.nth(0)).to_contain_text("Present")
    expect(past.nth(1)).to_contain_text("Late")
    page.get_by_text("Past sessions (2)").click()
    expect(past.first).to_be_hidden()
    page.get_by_text("Past sessions (2)").click()
    expect(past.first).to_be_visible()
    expect(
        page.get_by_text("You have attended 2 of 2 sessions (100%); 80% is needed.")
    ).to_be_visible()
    screenshot(page, f"portal-me-{name}")
    assert wider_than_window(page) == []

    # Her certificate, from her home page.
    with page.expect_download() as download:
        page.locator('[data-testid^="download-"]').first.click()
    assert download.value.suggested_filename.startswith("RTCM-RO-")
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # The link was used: opening it again explains and offers a new one.
    page.goto(link)
    expect(page.get_by_test_id("link-problem")).to_have_text(
        "This link has already been used. Ask for a new one."
    )
    expect(page.get_by_role("link", name="E-mail me a new link")).to_be_visible()
    expect(page.get_by_test_id("already-signed-in")).to_contain_text(EMAIL)
    screenshot(page, f"portal-link-used-{name}")


def test_participant_sets_a_time_zone_and_gets_a_calendar_address(
    phone_page: Any, participant: User
) -> None:
    page = phone_page
    sign_in(page, EMAIL)
    page.goto("/me")
    page.get_by_role("link", name="Time zone, language and calendar").click()
    expect(page.get_by_role("heading", name="My settings")).to_be_visible()
    page.get_by_label("Time zone").select_option("Europe/Amsterdam")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your settings were saved.")).to_be_visible()

    page.get_by_role("button", name="Create my calendar address").click()
    address = page.get_by_test_id("feed-url")
    expect(address).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendar/.+\.ics$"))
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    screenshot(page, "portal-profile-phone")
    assert wider_than_window(page) == []

    feed = page.request.get(address.input_value())
    assert feed.status == 200 and b"BEGIN:VCALENDAR" in feed.body()
    assert b"Readmission" in feed.body()

    page.goto("/me")
    expect(page.get_by_text("Times are shown in Europe/Amsterdam.")).to_be_visible()


def test_a_busy_participant_page_fits_a_phone(
    phone_page: Any, committed_db: Any, make: Any, account: Any
) -> None:
    """Several cohorts (completed with certificates, waitlisted, with a cancelled session)
    on a 360 px screen: everything readable, nothing sticks out."""
    from trainingmgr.certificates import services as certificates
    from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus

    today = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    person = make.person(first_name="Иван", last_name="Петров", email="ivan@example.org")
    coordinator = make.user(Role.COORDINATOR)
    mmdp = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    done = make.cohort(
        mmdp,
        name="MMDP 2026 Maastricht",
        timezone="Europe/Amsterdam",
        venue="UNU-MERIT",
        city="Maastricht",
        start_date=(today - timedelta(days=40)).date(),
        end_date=(today - timedelta(days=20)).date(),
    )
    enrolment = make.enrolment(cohort=done, person=person, status=EnrolmentStatus.COMPLETED)
    for day in range(-40, -30):
        session = make.session(
            cohort=done,
            title="Scale and nature of international migration",
            starts_at=today + timedelta(days=day),
            ends_at=today + timedelta(days=day, hours=3),
        )
        make.attendance(session, enrolment, AttendanceStatus.PRESENT)
    make.session(
        cohort=done,
        title="Field visit",
        starts_at=today - timedelta(days=29),
        ends_at=today - timedelta(days=29, hours=-3),
        status=SessionStatus.CANCELLED,
    )
    first = certificates.issue(enrolment, actor=coordinator)
    certificates.reissue(first, reason="Name misspelt", actor=coordinator)
    waiting = make.cohort(
        make.programme(code="MMPAF", title="Moving the Migration Policy Agenda Forward"),
        name="MMPAF online course 3",
        timezone="UTC",
        start_date=(today + timedelta(days=30)).date(),
        end_date=(today + timedelta(days=35)).date(),
    )
    make.enrolment(
        cohort=waiting, person=person, status=EnrolmentStatus.WAITLISTED, waitlist_position=2
    )
    make.session(
        cohort=waiting,
        title="Migration and development",
        starts_at=today + timedelta(days=30),
        ends_at=today + timedelta(days=30, hours=2),
    )
    committed_db.commit()
    account(Role.PARTICIPANT, email="ivan@example.org", person=person)

    page = phone_page
    sign_in(page, "ivan@example.org")
    page.goto("/me")
    expect(page.get_by_test_id(f"waitlisted-{waiting.id}")).to_contain_text(
        "You are on the waiting list (number 2)."
    )
    expect(page.get_by_role("link", name="Download PDF")).to_have_count(1)
    expect(page.get_by_role("link", name="Verification page")).to_have_count(2)
    expect(page.get_by_test_id(f"progress-{done.id}")).to_contain_text(
        "You have completed this training."
    )
    expect(page.get_by_text("Field visit")).to_be_visible()
    screenshot(page, "portal-me-busy-phone")
    assert wider_than_window(page) == []
