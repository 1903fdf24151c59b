"""Attendance in the browser (issue 5): a trainer records today's roster on a 360 px phone and
the cohort matrix shows the rates; a participant checks in with the QR code's link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in
from tests.factories import PASSWORD
from trainingmgr.accounts.models import Role, User
from trainingmgr.cohorts.models import Enrolment, Session
from trainingmgr.extensions import limiter

pytestmark = pytest.mark.e2e

ZONE = "Asia/Baku"
PARTICIPANTS = [("Ləman", "Əliyeva"), ("Иван", "Петров"), ("ნინო", "ბერიძე"), ("Şükrü", "Yılmaz")]
ABSENT = ["Иван Петров", "Şükrü Yılmaz"]


@dataclass
class Today:
    session: Session
    enrolments: dict[str, Enrolment]  # by the person's full name
    trainer: User
    coordinator: User
    participant: User  # Ləman Əliyeva's account
    cohort_id: int


@pytest.fixture
def today(committed_db: Any, make: Any, account: Any) -> Today:
    """A cohort in Baku with a session under way now (it began 10 minutes ago) taught by
    Nigar Quliyeva, a session later this week, and four participants."""
    now = datetime.now(UTC).replace(microsecond=0)
    local_today = now.astimezone(ZoneInfo(ZONE)).date()
    cohort = make.cohort(
        name="RTCM roll-out Ganja 2026",
        start_date=local_today - timedelta(days=1),
        end_date=local_today + timedelta(days=3),
        timezone=ZONE,
        venue="Ganja State University",
        city="Ganja",
    )
    trainer = make.person(first_name="Nigar", last_name="Quliyeva", email="nigar@example.org")
    session = make.session(
        cohort=cohort,
        title="Readmission and return",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(hours=1, minutes=50),  # two hours long
    )
    session.trainers.append(trainer)
    later = make.session(
        cohort=cohort,
        title="Countering migrant smuggling",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=3),
    )
    later.trainers.append(trainer)
    enrolments = {}
    for first, last in PARTICIPANTS:
        person = make.person(first_name=first, last_name=last)
        enrolments[f"{first} {last}"] = make.enrolment(cohort=cohort, person=person)
    committed_db.commit()
    return Today(
        session=session,
        enrolments=enrolments,
        trainer=account(Role.TRAINER, email="nigar@example.org", person=trainer),
        coordinator=account(Role.COORDINATOR, email="coordinator@example.org"),
        participant=account(
            Role.PARTICIPANT,
            email="leman@example.org",
            person=enrolments["Ləman Əliyeva"].person,
        ),
        cohort_id=cohort.id,
    )


def test_trainer_records_todays_roster_on_a_phone_and_the_matrix_shows_the_rates(
    phone_page: Any, today: Today
) -> None:
    page = phone_page
    session_id = today.session.id
    sign_in(page, today.trainer.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("My sessions")

    page.get_by_test_id(f"roster-link-{session_id}").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session_id}/attendance$"))
    expect(page.get_by_test_id("session-heading")).to_contain_text("Readmission and return")
    expect(page.get_by_test_id("recorded-count")).to_have_text("Recorded: 0 of 4")

    page.get_by_test_id("mark-all-present").click()
    for name in today.enrolments:
        group = page.get_by_role("group", name=name)
        expect(group.get_by_label("Present", exact=True)).to_be_checked()
    for name in ABSENT:
        page.get_by_role("group", name=name).get_by_label("Absent", exact=True).check()
    expect(page.get_by_test_id("roster-message")).to_have_text("4 unsaved changes.")
    page.wait_for_timeout(300)  # let the buttons' colour transition end before the picture
    screenshot(page, "e2e-roster-before-save-360")
    assert overflow_px(page) == 0, "the roster scrolls sideways at 360 px"

    with page.expect_navigation():
        page.get_by_test_id("save-roster").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Attendance saved: 4 recorded, 0 corrected."
    )
    expect(page.get_by_test_id("recorded-count")).to_have_text("Recorded: 4 of 4")
    expect(page.get_by_test_id("count-present")).to_have_text("2")
    expect(page.get_by_test_id("count-absent")).to_have_text("2")
    for name, enrolment in today.enrolments.items():
        recorded = page.get_by_test_id(f"recorded-{enrolment.id}")
        expect(recorded).to_contain_text("Absent" if name in ABSENT else "Present")
        expect(recorded).to_contain_text("by ")

    page.get_by_test_id("open-matrix").click()
    expect(page).to_have_url(re.compile(rf"/cohorts/{today.cohort_id}/attendance$"))
    expect(page.get_by_test_id("matrix-totals")).to_contain_text(
        "4 participants · 2 sessions shown, 1 held"
    )
    for name, enrolment in today.enrolments.items():
        expect(page.get_by_test_id(f"rate-{enrolment.id}")).to_have_text(
            "0%" if name in ABSENT else "100%"
        )
        expect(page.get_by_test_id(f"hours-{enrolment.id}")).to_have_text(
            re.compile(r"^0(\.0+)?$") if name in ABSENT else re.compile(r"^2(\.0+)?$")
        )
    expect(page.get_by_test_id(f"turnout-{session_id}")).to_have_text("50%")
    screenshot(page, "e2e-matrix-360")
    assert overflow_px(page) == 0, "the matrix page scrolls sideways at 360 px"


def test_participant_checks_in_with_the_link_of_the_qr_code(
    page: Any, phone_page: Any, today: Today, live_server: Any
) -> None:
    session_id = today.session.id
    # The coordinator projects the check-in screen.
    sign_in(page, today.coordinator.email)
    page.goto(f"/sessions/{session_id}/checkin-screen")
    expect(page.get_by_test_id("checkin-qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("checkin-count")).to_contain_text("Checked in: 0 / 4")
    link = page.get_by_test_id("checkin-url").get_attribute("href")
    code = page.request.get(f"/sessions/{session_id}/checkin-code.json").json()
    assert urlsplit(code["url"]).path.startswith(f"/checkin/{session_id}/")
    screenshot(page, "e2e-checkin-screen")

    # The participant scans it on their phone: signs in, then confirms.
    phone = phone_page
    assert link.startswith(live_server.url)  # the QR code holds the public BASE_URL
    path = urlsplit(link).path
    phone.goto(link)
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    phone.get_by_label("E-mail").fill(today.participant.email)
    phone.get_by_label("Password", exact=True).fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Sign in").click()
    # Back to the same code, with the scan ticket that outlives the code's 30 seconds.
    expect(phone).to_have_url(re.compile(rf"{re.escape(path)}\?scan=[\w.-]+$"))
    expect(phone.get_by_text("You are checking in as")).to_be_visible()
    with phone.expect_navigation():
        phone.get_by_test_id("check-me-in").click()
    done = phone.get_by_test_id("checkin-done")
    expect(done).to_contain_text("You are checked in.")
    expect(done).to_contain_text("Present")
    screenshot(phone, "e2e-checkin-done-360")
    assert overflow_px(phone) == 0

    # The screen's counter follows (it polls the JSON endpoint every few seconds).
    expect(page.get_by_test_id("checkin-count")).to_contain_text("Checked in: 1 / 4", timeout=8_000)
    # Following the same link again records nothing twice.
    phone.goto(path)
    expect(phone.get_by_test_id("checkin-done")).to_contain_text(
        "You are already recorded for this session."
    )


# Labels of the four statuses as the roster's buttons show them (issue 19: at 360 px the
# Azerbaijani "İştirak edib" and "İştirak etməyib" were both cut to "İştirak …").
STATUS_LABELS = {
    "en": ["Present", "Late", "Excused", "Absent"],
    "ru": ["Присутствовал(а)", "Опоздал(а)", "По уважительной причине", "Отсутствовал(а)"],
    "az": ["İştirak edib", "Gecikib", "Üzrlü səbəbdən", "İştirak etməyib"],
}

_CUT_LABELS = """() => Array.from(document.querySelectorAll('.roster-status .btn-st'))
  .filter(el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
                || el.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map(el => el.textContent)"""


@pytest.mark.parametrize("width", [360, 1280])
def test_roster_status_buttons_show_their_full_labels_in_every_language(
    chromium: Any, live_server: Any, today: Today, width: int
) -> None:
    session_id, email = today.session.id, today.trainer.email
    first = next(iter(today.enrolments.values())).id
    for language, labels in STATUS_LABELS.items():  # the browser's language picks the page's
        context = chromium.new_context(
            base_url=live_server.url, locale=language, viewport={"width": width, "height": 800}
        )
        page = context.new_page()
        try:
            limiter.reset()  # three sign-ins from one address in a few seconds
            page.goto("/login")  # the form's labels are in the browser's language
            page.locator("input[name=email]").fill(email)
            page.locator("input[name=password]").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("form button[type=submit]").last.click()
            page.goto(f"/sessions/{session_id}/attendance")
            status = page.get_by_test_id(f"status-{first}")
            shown = [t.strip() for t in status.locator(".btn-st").all_inner_texts()]
            assert shown == labels
            for label in labels:  # a screen reader names each button by its whole label
                expect(status.get_by_label(label, exact=True)).to_have_count(1)
            assert page.evaluate(_CUT_LABELS) == [], f"labels cut off in {language} at {width} px"
            assert overflow_px(page) == 0
            screenshot(page, f"e2e-roster-labels-{language}-{width}")
        finally:
            context.close()
