"""A coordinator sets up a training from scratch in the browser (issue 3).

Programme -> two curriculum modules -> a cohort with two seats -> a week of sessions in one
step -> three people enrolled (the third goes on the waitlist) -> the cohort's calendar.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.e2e import screenshot, sign_in
from trainingmgr.accounts.models import Role

pytestmark = pytest.mark.e2e

ZONE = "Europe/Amsterdam"
PEOPLE = [
    ("Иван", "Петров", "ivan.petrov"),
    ("Ləman", "Əliyeva", "leman.aliyeva"),
    ("Şükrü", "Yılmaz", "sukru.yilmaz"),
]
DOMAIN = "mmpaf-e2e.example.org"


def _next_monday(weeks_ahead: int = 3) -> date:
    today = date.today()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


def _id_from_url(page: Any, pattern: str) -> int:
    match = re.search(pattern, page.url)
    assert match, f"{page.url} does not match {pattern}"
    return int(match.group(1))


def _create_programme(page: Any) -> int:
    page.goto("/programmes/")
    page.get_by_role("link", name="New programme").click()
    page.get_by_label("Code", exact=True).fill("MMDP-2026")
    page.get_by_label("Title", exact=True).fill("Migration Management Diploma Programme")
    with page.expect_navigation():
        page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Migration Management Diploma Programme"
    )
    return _id_from_url(page, r"/programmes/(\d+)")


def _add_modules(page: Any) -> None:
    page.get_by_role("link", name="Add module").click()
    page.get_by_label("Code", exact=True).fill("MIL-01")
    page.get_by_label("Title", exact=True).fill("International migration law")
    page.get_by_label("Hours", exact=True).fill("17.5")
    with page.expect_navigation():
        page.get_by_role("button", name="Add and add another").click()
    expect(page.get_by_role("status").first).to_contain_text("Module MIL-01 added.")
    page.get_by_label("Code", exact=True).fill("CMS-02")
    page.get_by_label("Title", exact=True).fill("Countering migrant smuggling")
    page.get_by_label("Hours", exact=True).fill("6")
    with page.expect_navigation():
        page.get_by_role("button", name="Add module", exact=True).click()
    curriculum = page.get_by_test_id("curriculum")
    expect(curriculum.get_by_test_id("module-MIL-01")).to_contain_text(
        "International migration law"
    )
    expect(curriculum.get_by_test_id("module-CMS-02")).to_contain_text(
        "Countering migrant smuggling"
    )


def _create_cohort(page: Any, programme_id: int, monday: date) -> int:
    page.goto(f"/cohorts/new?programme_id={programme_id}")
    page.get_by_label("Name", exact=True).fill("MMDP cohort Baku 2026")
    page.get_by_label("Start date", exact=True).fill(monday.isoformat())
    page.get_by_label("End date", exact=True).fill((monday + timedelta(days=4)).isoformat())
    page.get_by_label("Time zone", exact=True).fill(ZONE)
    page.get_by_label("Venue", exact=True).fill("ADA University")
    page.get_by_label("City", exact=True).fill("Baku")
    page.get_by_label("Capacity", exact=True).fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Save cohort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("MMDP cohort Baku 2026")
    expect(page.get_by_test_id("capacity")).to_have_text("0 of 2 places taken")
    return _id_from_url(page, r"/cohorts/(\d+)$")


def _add_series(page: Any, monday: date) -> None:
    page.get_by_role("link", name="Add a series").click()
    # The cohort's dates and Monday to Friday are filled in already.
    expect(page.get_by_label("First date", exact=True)).to_have_value(monday.isoformat())
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        expect(page.get_by_label(day)).to_be_checked()
    page.get_by_label("Start time", exact=True).fill("09:00")
    page.get_by_label("End time", exact=True).fill("12:30")
    page.get_by_label("Module", exact=True).select_option(
        label="MIL-01 — International migration law"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    if page.get_by_test_id("save-anyway").count():
        # Schedule warnings (e.g. an overlap) are confirmed explicitly.
        with page.expect_navigation():
            page.get_by_test_id("save-anyway").click()
    expect(page.get_by_role("status").first).to_contain_text("5 sessions added.")
    schedule = page.get_by_test_id("schedule")
    expect(schedule.locator("tr[data-testid^='session-']")).to_have_count(5)
    expect(schedule.get_by_text("09:00–12:30")).to_have_count(5)


def _search(page: Any, query: str) -> None:
    page.get_by_label("Search the directory", exact=True).fill(query)
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()


def _enrol_ticked(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol the people ticked").click()


def _enrol_three(page: Any, cohort_id: int) -> None:
    page.goto(f"/cohorts/{cohort_id}/enrolments")
    expect(page.get_by_test_id("roster-empty")).to_be_visible()

    # Two found by the e-mail domain they share, ticked together: they take both seats.
    _search(page, DOMAIN)
    results = page.get_by_test_id("search-results")
    expect(results.locator("input[name=person_ids]")).to_have_count(3)
    results.get_by_label("Иван Петров", exact=True).check()
    results.get_by_label("Ləman Əliyeva", exact=True).check()
    _enrol_ticked(page)
    expect(page.get_by_role("status").first).to_contain_text("2 people enrolled.")

    # The third, found with a search in plain Latin letters, goes on the waitlist.
    _search(page, "yilmaz")
    results = page.get_by_test_id("search-results")
    results.get_by_label("Şükrü Yılmaz", exact=True).check()
    _enrol_ticked(page)
    expect(page.get_by_role("status").first).to_contain_text("1 put on the waitlist (place 1).")

    roster = page.get_by_test_id("roster-table")
    expect(page.get_by_test_id("roster-seats")).to_have_text("2 of 2 seats taken, 0 left.")
    expect(roster.locator("tr", has_text="Иван Петров")).to_contain_text("Enrolled")
    expect(roster.locator("tr", has_text="Ləman Əliyeva")).to_contain_text("Enrolled")
    waiting = roster.locator("tr", has_text="Şükrü Yılmaz")
    expect(waiting).to_contain_text("Waitlisted")
    expect(waiting).to_contain_text("place 1")
    expect(
        page.get_by_test_id("roster-counts").locator("[data-status=waitlisted]")
    ).to_contain_text("1")


def _download_calendar(page: Any, cohort_id: int) -> bytes:
    page.goto(f"/cohorts/{cohort_id}")
    expect(page.get_by_test_id("capacity")).to_contain_text("2 of 2 places taken · 1 waitlisted")
    with page.expect_download() as info:
        page.get_by_test_id("ics-link").click()
    download = info.value
    assert download.suggested_filename.endswith(".ics")
    return Path(download.path()).read_bytes()


def test_coordinator_sets_up_a_cohort_and_downloads_its_calendar(
    page: Any, committed_db: Any, make: Any, account: Any
) -> None:
    for first, last, mailbox in PEOPLE:
        make.person(
            first_name=first,
            last_name=last,
            email=f"{mailbox}@{DOMAIN}",
            organisation="State Migration Service",
        )
    committed_db.commit()
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    monday = _next_monday()

    sign_in(page, coordinator.email)
    programme_id = _create_programme(page)
    _add_modules(page)
    screenshot(page, "e2e-programme-curriculum")
    cohort_id = _create_cohort(page, programme_id, monday)
    _add_series(page, monday)
    screenshot(page, "e2e-cohort-schedule")
    _enrol_three(page, cohort_id)
    screenshot(page, "e2e-cohort-enrolments")
    body = _download_calendar(page, cohort_id)

    calendar = Calendar.from_ical(body)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [ZONE]
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    assert len(events) == 5
    amsterdam = ZoneInfo(ZONE)
    for day, event in enumerate(events):
        start = event.decoded("DTSTART")
        # 09:00 on each weekday in Amsterdam, written with the zone's TZID.
        assert event["DTSTART"].params["TZID"] == ZONE
        assert (start.date(), start.time()) == (monday + timedelta(days=day), time(9, 0))
        assert start.utcoffset() == datetime.combine(start.date(), time(9), amsterdam).utcoffset()
        assert event.decoded("DTEND") - start == timedelta(hours=3, minutes=30)
        assert "International migration law" in str(event["SUMMARY"])
        assert str(event["LOCATION"]) == "ADA University, Baku"
