"""The three main journeys by keyboard alone (issue 19), with the focus visible at each step:
a coordinator enrols people from a spreadsheet and issues certificates, a trainer records
attendance, a participant downloads a certificate.

Every control is reached with Tab (or Shift+Tab) and used with Enter or Space; the only
exception is the operating system's file dialog, which a test cannot drive: the file is
given to the focused file field.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import DATA
from tests.e2e import screenshot
from tests.e2e.test_attendance_flow import ABSENT, Today, today  # noqa: F401  (fixture)
from tests.e2e.test_certificates_flow import Finished, finished  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

CSV = DATA / "participants_semicolon_bom.csv"
MAX_TABS = 250
# Whether the focused element (or, for an invisible input drawn by the label after it, such
# as Bootstrap's .btn-check and the roster's statuses, that label) shows a focus indicator:
# an outline or a box shadow.
FOCUS_VISIBLE = """() => {
  let el = document.activeElement;
  if (!el || el === document.body) return false;
  const hidden = el.classList.contains('btn-check') || getComputedStyle(el).opacity === '0';
  if (hidden && el.nextElementSibling) el = el.nextElementSibling;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return outline || (style.boxShadow && style.boxShadow !== 'none');
}"""


def tab_to(page: Any, target: Any, *, backwards: bool = False) -> None:
    """Press Tab until ``target`` has the focus (failing after MAX_TABS presses), and check
    that the focus can be seen there."""
    handle = target.element_handle()
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if page.evaluate("el => document.activeElement === el", handle):
            assert page.evaluate(FOCUS_VISIBLE), f"the focus on {target} cannot be seen"
            return
    raise AssertionError(f"{target} cannot be reached with {key}")


def press(page: Any, target: Any, key: str = "Enter") -> None:
    """Tab to ``target`` and press ``key`` on it, waiting for the page it opens."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press(key)


def sign_in_by_keyboard(page: Any, email: str) -> None:
    page.goto("/login")
    tab_to(page, page.get_by_label("E-mail"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Password", exact=True))
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_coordinator_imports_a_spreadsheet_and_issues_certificates_by_keyboard(
    page: Any,
    finished: Finished,  # noqa: F811
) -> None:
    sign_in_by_keyboard(page, finished.coordinator.email)
    press(page, page.get_by_role("link", name="Cohorts", exact=True).first)
    press(page, page.get_by_role("link", name="RTCM roll-out Baku 2026"))
    press(page, page.locator("#import-participants"))
    tab_to(page, page.get_by_label("Spreadsheet (CSV or Excel .xlsx)"))
    page.get_by_label("Spreadsheet (CSV or Excel .xlsx)").set_input_files(CSV)  # the file dialog
    press(page, page.locator("#upload-button"))
    expect(page).to_have_url(re.compile(r"/import/[^/]+$"))
    press(page, page.locator("#confirm-button"))
    expect(page).to_have_url(re.compile(rf"/cohorts/{finished.cohort_id}$"))
    expect(page.get_by_role("status").first).to_contain_text("Import done")

    press(page, page.get_by_test_id("cohort-actions").get_by_role("link", name="Certificates"))
    expect(page.get_by_test_id("count-eligible")).to_have_text("2")
    press(page, page.get_by_test_id("issue-all"))
    expect(page.get_by_role("status").first).to_contain_text("2 issued")
    expect(page.get_by_test_id("count-issued")).to_have_text("2")
    screenshot(page, "e2e-keyboard-coordinator")


def test_trainer_records_attendance_by_keyboard(
    phone_page: Any,
    today: Today,  # noqa: F811
) -> None:
    page = phone_page
    sign_in_by_keyboard(page, today.trainer.email)
    press(page, page.get_by_test_id(f"roster-link-{today.session.id}"))
    tab_to(page, page.get_by_test_id("mark-all-present"))
    page.keyboard.press("Enter")
    for name in ABSENT:
        # A radio group takes one Tab stop (its ticked radio); arrows move the tick.
        group = page.get_by_role("group", name=name)
        tab_to(page, group.get_by_label("Present", exact=True))
        absent = group.get_by_label("Absent", exact=True)
        for _ in range(4):
            if absent.is_checked():
                break
            page.keyboard.press("ArrowRight")
        expect(absent).to_be_checked()
    screenshot(page, "e2e-keyboard-roster-360")
    press(page, page.get_by_test_id("save-roster"))
    expect(page.get_by_role("status").first).to_contain_text("Attendance saved: 4 recorded")
    expect(page.get_by_test_id("count-absent")).to_have_text("2")


def test_participant_downloads_a_certificate_by_keyboard(
    page: Any,
    finished: Finished,  # noqa: F811
) -> None:
    # The coordinator issues the certificates (already shown by keyboard above).
    sign_in_by_keyboard(page, finished.coordinator.email)
    page.goto(f"/cohorts/{finished.cohort_id}/certificates")
    with page.expect_navigation():
        page.get_by_test_id("issue-all").click()
    page.context.clear_cookies()

    sign_in_by_keyboard(page, finished.participant.email)
    link = page.get_by_role("link", name=re.compile(r"^Download PDF")).first
    tab_to(page, link)
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert re.fullmatch(r"RTCM-\d{4}-\d{4}\.pdf", info.value.suggested_filename)
    assert info.value.path().read_bytes().startswith(b"%PDF")
