"""A coordinator on a phone raises a full cohort's capacity and sees the waitlist fill itself,
then cancels a session that has attendance: the page says who will be told and shows the
message, asks to confirm, and the schedule keeps the session struck through."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in
from trainingmgr.accounts.models import Role
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.enrolments import services as enrolments

pytestmark = pytest.mark.e2e


def _at(days: int, hour: int) -> datetime:
    day = date.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def full_cohort(committed_db: Any, make: Any) -> Any:
    programme = make.programme(code="RTCM", title="Road Traffic Crash Management")
    cohort = make.cohort(
        programme,
        name="RTCM roll-out Ganja",
        capacity=3,
        start_date=date.today() - timedelta(days=3),
        end_date=date.today() + timedelta(days=20),
        timezone="Asia/Baku",
        city="Ganja",
    )
    names = [("Ləman", "Əliyeva"), ("Иван", "Петров"), ("Şükrü", "Yılmaz"), ("Aysel", "Məmmədova")]
    names += [("Rəşad", "Quliyev"), ("Nigar", "Həsənova"), ("Orxan", "Babayev")]
    people = [
        make.person(first_name=f, last_name=last, email=f"p{i}@example.org")
        for i, (f, last) in enumerate(names)
    ]
    enrolments.enrol_people(cohort.id, [p.id for p in people], actor=None)
    held = make.session(cohort, title="Scene safety", starts_at=_at(-1, 5), ends_at=_at(-1, 8))
    for enrolment in enrolments.roster(cohort.id).enrolments:
        if enrolment.status == EnrolmentStatus.ENROLLED:
            make.attendance(held, enrolment)
    make.session(cohort, title="Triage", starts_at=_at(5, 5), ends_at=_at(5, 8))
    committed_db.commit()
    return cohort


def test_capacity_raised_fills_the_waitlist_and_a_session_is_cancelled_with_notice(
    phone_page: Any, account: Any, full_cohort: Any
) -> None:
    page = phone_page
    user = account(Role.COORDINATOR)
    sign_in(page, user.email)

    page.goto(f"/cohorts/{full_cohort.id}/edit")
    expect(page.get_by_label("Fill free seats from the waitlist automatically")).to_be_checked()
    page.get_by_label("Capacity").fill("12")
    with page.expect_navigation():
        page.get_by_role("button", name="Save cohort").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Aysel Məmmədova, Rəşad Quliyev, Nigar Həsənova, Orxan Babayev took free seats "
        "from the waitlist and were told by e-mail."
    )
    screenshot(page, "flows-waitlist-filled-phone")
    # (The cohort page's own width on a phone is the phones work's: not asserted here.)

    # The past session has attendance: cancelling it asks to confirm.
    schedule = page.get_by_test_id("schedule")
    schedule.get_by_role("row").filter(has_text="Scene safety").get_by_role(
        "link", name="Cancel"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel a session")
    expect(page.get_by_test_id("attendance-recorded")).to_contain_text("(3 records)")
    expect(page.get_by_test_id("nobody-told")).to_be_visible()  # the session is over
    screenshot(page, "flows-cancel-with-attendance-phone")
    assert overflow_px(page) == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_test_id("attendance-recorded")).to_contain_text(
        "confirm that you want to cancel it"
    )
    page.get_by_label("Cancel it anyway").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Session cancelled: it stays in the schedule, struck through. Nobody was told by e-mail."
    )

    # The next session: seven people will be told, and the message is there to read.
    page.get_by_test_id("schedule").get_by_role("row").filter(has_text="Triage").get_by_role(
        "link", name="Cancel"
    ).click()
    notice = page.get_by_test_id("change-notice")
    expect(notice).to_contain_text("7 people will be told by e-mail")
    notice.get_by_text("The message they will get").click()
    expect(page.get_by_test_id("notice-preview")).to_contain_text("Cancelled: Triage")
    screenshot(page, "flows-cancel-notice-phone")
    assert overflow_px(page) == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status").first).to_contain_text("7 people were told by e-mail.")
