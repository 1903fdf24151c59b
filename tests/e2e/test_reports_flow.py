"""A coordinator on a phone opens Reports from the menu, reads the figures and the charts, and
downloads the donor report in Russian (issue 20)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests import factories
from tests.e2e import open_menu, screenshot, sign_in, wider_than_window
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.people.models import Sex

pytestmark = pytest.mark.e2e


def test_coordinator_reads_the_dashboard_and_downloads_the_report_on_a_phone(
    phone_page: Any, account: Any, committed_db: Any
) -> None:
    programme = factories.programme(code="RTCM-E2E", title="Regional training")
    cohort = factories.cohort(programme, name="Baku spring", start_date=date(2026, 3, 2))
    start = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    sessions = [
        factories.session(
            cohort,
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=3),
            title=f"Day {i + 1}",
        )
        for i in range(3)
    ]
    people = [
        factories.person(first_name="Ləman", last_name="Əliyeva", country="AZ", sex=Sex.FEMALE),
        factories.person(first_name="Иван", last_name="Петров", country="KG", sex=Sex.MALE),
    ]
    for person, line in zip(people, ("PPL", "PAA"), strict=True):
        enrolment = factories.enrolment(cohort, person)
        for session, letter in zip(sessions, line, strict=True):
            status = {"P": AttendanceStatus.PRESENT, "L": AttendanceStatus.LATE}.get(
                letter, AttendanceStatus.ABSENT
            )
            factories.attendance(session, enrolment, status)
    coordinator = account(Role.COORDINATOR)
    committed_db.commit()

    page = phone_page
    sign_in(page, coordinator.email)
    open_menu(page)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    figures = page.get_by_test_id("figures")
    expect(figures.locator('[data-figure="people_trained"] .value')).to_have_text("2")
    expect(figures.locator('[data-figure="attendance_rate"] .value')).to_have_text("66.6%")
    expect(page.get_by_role("img", name="Participants by country")).to_be_visible()
    expect(page.get_by_role("img", name="Attendance by session")).to_be_visible()
    assert wider_than_window(page) == []
    screenshot(page, "reports-phone")

    page.get_by_label("Language of the report").select_option("ru")
    with page.expect_download() as info:
        page.get_by_role("button", name="PDF report").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Азербайджан (AZ)" in text and "66,6%" in text
