"""A coordinator who makes several mistakes in the programme form sees them all in one answer,
listed at the top and linked to their fields, on a desktop and on a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in
from trainingmgr.accounts.models import Role


def _submit_with_three_mistakes(page: Any) -> Any:
    page.goto("/programmes/new")
    page.get_by_label("Code", exact=True).fill("MMDP-2026")
    page.get_by_label("Title", exact=True).fill("Migration Management Diploma Programme")
    page.get_by_label("Start date").fill("2026-06-30")
    page.get_by_label("End date").fill("2026-03-02")
    page.get_by_label("Minimum attendance (%)").fill("120")
    page.get_by_label("Minimum hours").fill("100000")
    with page.expect_navigation():
        page.get_by_role("button", name="Create programme").click()
    return page.get_by_test_id("form-errors")


def test_every_mistake_is_listed_once_and_each_link_leads_to_its_field(
    page: Any, committed_db: Any, account: Any
) -> None:
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    sign_in(page, coordinator.email)

    summary = _submit_with_three_mistakes(page)

    expect(summary).to_contain_text("3 problems to fix")
    expect(summary.get_by_role("link")).to_have_count(3)
    screenshot(page, "form-errors-1280")
    summary.get_by_role("link", name="Minimum attendance (%)").click()
    expect(page).to_have_url(re.compile(r"#default_min_attendance_pct$"))
    expect(page.locator("#default_min_attendance_pct")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#default_min_attendance_pct")).to_be_in_viewport()


def test_the_list_of_mistakes_fits_a_phone(
    phone_page: Any, committed_db: Any, account: Any
) -> None:
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    sign_in(phone_page, coordinator.email)

    summary = _submit_with_three_mistakes(phone_page)

    expect(summary).to_be_visible()
    assert overflow_px(phone_page) == 0
    screenshot(phone_page, "form-errors-360")
