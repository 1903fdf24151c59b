"""A coordinator imports a ministry's Excel list of 120 participants into a cohort (issue 4):
upload, correct the column mapping, preview, confirm."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.conftest import DATA
from tests.e2e import screenshot, sign_in
from trainingmgr.accounts.models import Role
from trainingmgr.cohorts.models import Enrolment, EnrolmentStatus
from trainingmgr.people.models import Person

pytestmark = pytest.mark.e2e

XLSX = DATA / "participants_mmpaf.xlsx"
ROWS = 120
# Names from the file, one per script it holds.
NAMES = [
    ("Ləman", "Əliyeva", "AZ"),
    ("Иван", "Петров", "BY"),
    ("Ґанна", "Їжакевич", "UA"),
    ("ნინო", "ბერიძე", "GE"),
]


def _people_in_db(session: Any) -> int:
    session.rollback()  # a fresh transaction: see what the server committed meanwhile
    return int(session.scalar(sa.select(sa.func.count()).select_from(Person)))


def _preview(page: Any) -> None:
    with page.expect_navigation():
        page.locator("#preview-button").click()


def test_coordinator_imports_an_excel_list_into_a_cohort(
    page: Any, committed_db: Any, make: Any, account: Any
) -> None:
    cohort = make.cohort(name="MMPAF cohort Tbilisi 2026", timezone="Asia/Tbilisi")
    committed_db.commit()
    cohort_id = cohort.id
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")

    sign_in(page, coordinator.email)
    page.goto(f"/cohorts/{cohort_id}")
    page.locator("#import-participants").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Import participants into MMPAF cohort Tbilisi 2026"
    )
    page.get_by_label("Spreadsheet (CSV or Excel .xlsx)").set_input_files(XLSX)
    with page.expect_navigation():
        page.locator("#upload-button").click()

    # Every column was recognised: 120 new people, nothing written yet.
    expect(page).to_have_url(re.compile(r"/import/[^/]+$"))
    expect(page.get_by_test_id("import-source")).to_contain_text("participants_mmpaf.xlsx")
    expect(page.get_by_test_id("count-create")).to_have_text(f"Will create: {ROWS}")
    expect(page.locator("tr[data-verdict]")).to_have_count(ROWS)
    expect(page.get_by_label("Email", exact=True)).to_have_value("email")
    assert _people_in_db(committed_db) == 0

    # A wrong mapping: the e-mail column left out. The preview refuses it and says why.
    page.get_by_label("Email", exact=True).select_option("")
    page.get_by_label("Phone", exact=True).select_option("position")
    _preview(page)
    problems = page.get_by_test_id("import-problems")
    expect(problems).to_contain_text("No column is mapped to E-mail")
    expect(problems).to_contain_text("Position is chosen for more than one column.")
    expect(page.locator("tr[data-verdict]")).to_have_count(0)
    expect(page.locator("#confirm-button")).to_have_count(0)
    expect(page.get_by_label("Email", exact=True)).to_have_value("")
    screenshot(page, "e2e-import-wrong-mapping")

    # Corrected: the e-mail column back, the phone column not imported at all.
    page.get_by_label("Email", exact=True).select_option(label="E-mail")
    page.get_by_label("Phone", exact=True).select_option(label="(not imported)")
    _preview(page)
    expect(page.get_by_test_id("import-problems")).to_have_count(0)
    expect(page.get_by_test_id("count-create")).to_have_text(f"Will create: {ROWS}")
    expect(page.get_by_test_id("count-error")).to_have_count(0)
    rows = page.locator("tr[data-verdict]")
    expect(rows).to_have_count(ROWS)
    expect(page.locator("tr[data-verdict=create]")).to_have_count(ROWS)
    header = page.get_by_test_id("import-rows").locator("thead")
    expect(header).to_contain_text("E-mail")
    expect(header).not_to_contain_text("Phone")
    expect(page.locator("#exclude-errors")).to_have_count(0)  # no rows with errors
    for first, last, _country in NAMES:
        expect(page.locator("tr[data-verdict]", has_text=last).first).to_contain_text(first)
    screenshot(page, "e2e-import-preview")
    assert _people_in_db(committed_db) == 0

    with page.expect_navigation():
        page.locator("#confirm-button").click()
    expect(page).to_have_url(re.compile(rf"/cohorts/{cohort_id}$"))
    expect(page.get_by_role("status").first).to_have_text(
        f"Import done: {ROWS} people created, {ROWS} enrolled."
    )
    expect(page.get_by_test_id("roster-seats")).to_contain_text(f"{ROWS} with a seat")
    # The roster shows 100 people a page; "Find on the roster" finds anyone imported.
    expect(page.get_by_test_id("pagination-summary").first).to_have_text(f"Showing 1–100 of {ROWS}")
    screenshot(page, "e2e-import-done")
    for first, last, _country in NAMES:
        page.locator("#roster-who").fill(f"{first} {last}")
        with page.expect_navigation():
            page.locator("#roster-who").press("Enter")
        roster = page.get_by_test_id("roster-table")
        expect(roster.get_by_text(f"{first} {last}", exact=True).first).to_be_visible()

    assert _people_in_db(committed_db) == ROWS
    statuses = committed_db.scalars(
        sa.select(Enrolment.status).where(Enrolment.cohort_id == cohort_id)
    ).all()
    assert statuses == [EnrolmentStatus.ENROLLED] * ROWS
    people = committed_db.scalars(sa.select(Person)).all()
    assert all(p.phone in (None, "") for p in people), "the phone column was not to be imported"
    found = {(p.first_name, p.last_name, p.country) for p in people}
    for name in NAMES:
        assert name in found
