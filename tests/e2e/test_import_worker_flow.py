"""A large list read by the worker (the page reloads itself, no script needed), possible
duplicates enrolled as the existing people for all rows at once, then Back (issues 17, 19)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e import sign_in
from tests.e2e.conftest import LiveServer
from trainingmgr.accounts.models import Role
from trainingmgr.mail import worker

pytestmark = pytest.mark.e2e


def _file(tmp_path: Any, rows: int) -> Any:
    lines = ["First name,Last name,Email,Sex,Country"]
    lines += [f"Name{n},Same,new{n}@example.org,F,AZ" for n in range(rows)]
    path = tmp_path / "large.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_large_list_is_read_by_the_worker_and_duplicates_are_enrolled_at_once(
    page: Any,
    live_server: LiveServer,
    committed_db: Any,
    make: Any,
    account: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(live_server.app.config, "IMPORT_WORKER_THRESHOLD_KB", 1)
    cohort = make.cohort(name="Baku roll-out", capacity=None)
    for n in range(3):  # already in the directory, with other e-mails
        factories.person(
            first_name=f"Name{n}", last_name="Same", email=f"old{n}@x.org", country="AZ"
        )
    committed_db.commit()
    cohort_id = cohort.id
    coordinator = account(Role.COORDINATOR)

    sign_in(page, coordinator.email)
    page.goto(f"/cohorts/{cohort_id}/import")
    page.get_by_label("Spreadsheet (CSV or Excel .xlsx)").set_input_files(_file(tmp_path, 60))
    with page.expect_navigation():
        page.locator("#upload-button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reading the file")
    expect(page.locator("#import-progress-bar")).to_be_visible()

    worker.deliver_once(live_server.app)  # the worker's turn: the file is read
    # The page reloads itself and shows the preview.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import", timeout=15000)
    expect(page.get_by_test_id("count-duplicate")).to_have_text("Possible duplicate: 3")

    page.locator("#dup-all").select_option("existing")
    with page.expect_navigation():
        page.get_by_test_id("apply-all").click()
    expect(page.locator("#dup-2 option:checked")).to_have_text("Enrol Name0 Same (same person)")
    with page.expect_navigation():
        page.locator("#confirm-button").click()
    expect(
        page.get_by_text(
            "Import done: 57 people created, 3 possible duplicates taken as the existing "
            "people, 60 enrolled."
        )
    ).to_be_visible()

    page.go_back()  # to the preview, which is a GET: it says the file was imported
    expect(page).to_have_url(f"{live_server.url}/cohorts/{cohort_id}")
    expect(page.get_by_text("This file was already imported.")).to_be_visible()
