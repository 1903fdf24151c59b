"""The trainer picker in the browser (issue 19): this programme's trainers are offered first,
other people only when searched for (in any script), and a ticked person stays in view."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in
from trainingmgr.accounts.models import Role

pytestmark = pytest.mark.e2e


def test_the_trainer_picker_searches_in_any_script(
    phone_page: Any, committed_db: Any, make: Any, account: Any
) -> None:
    cohort = make.cohort(name="RTCM roll-out Ganja 2026", timezone="Asia/Baku")
    taught = make.session(cohort=cohort)
    nigar = make.person(first_name="Nigar", last_name="Quliyeva")
    taught.trainers.append(nigar)
    make.person(first_name="Иван", last_name="Петров")
    committed_db.commit()
    cohort_id = cohort.id
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")

    page = phone_page
    sign_in(page, coordinator.email)
    page.goto(f"/cohorts/{cohort_id}/sessions/new")
    picker = page.get_by_role("group", name="Trainers")
    expect(picker.get_by_label("Nigar Quliyeva")).to_be_visible()
    ivan = picker.get_by_label("Иван Петров")
    expect(ivan).to_be_hidden()  # not a trainer: found by searching

    picker.get_by_role("searchbox").fill("petrov")
    expect(ivan).to_be_visible()
    expect(picker.get_by_label("Nigar Quliyeva")).to_be_hidden()
    ivan.check()
    picker.get_by_role("searchbox").fill("")
    expect(ivan).to_be_visible()  # ticked: stays in view
    expect(picker.get_by_label("Nigar Quliyeva")).to_be_visible()
    picker.get_by_role("searchbox").fill("zzz")
    expect(picker.get_by_text("Nothing matches.")).to_be_hidden()  # the ticked one still shows
    screenshot(page, "e2e-trainer-picker-360")
    assert overflow_px(page) == 0
