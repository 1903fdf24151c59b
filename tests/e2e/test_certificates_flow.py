"""Certificates in the browser (issue 6): a coordinator issues a cohort's certificates in one
click, a participant downloads theirs on a phone; on a 360 px phone the coordinator issues one
to a participant the rule does not find eligible, with a written reason."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e import overflow_px, screenshot, sign_in, wider_than_window
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.cohorts.models import Enrolment

pytestmark = pytest.mark.e2e

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
SERIAL = re.compile(r"^RTCM-\d{4}-\d{4}$")


@dataclass
class Finished:
    cohort_id: int
    coordinator: User
    participant: User  # Ləman Əliyeva's account
    enrolments: dict[str, Enrolment]  # by full name


@pytest.fixture
def finished(committed_db: Any, make: Any, account: Any) -> Finished:
    """A finished cohort in Baku (80% rule, module M2 required): Ləman and Şükrü attended
    all four sessions, ნინო one."""
    programme = make.programme(code="RTCM", title="Road Traffic Crash Management")
    m1 = make.module(programme, code="M1", title="Scene safety", position=1)
    m2 = make.module(programme, code="M2", title="Triage", position=2)
    cohort = make.cohort(
        programme,
        name="RTCM roll-out Baku 2026",
        timezone="Asia/Baku",
        min_attendance_pct=80,
        venue="ADA University",
        city="Baku",
    )
    cohort.required_modules.append(m2)
    start = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    sessions = [
        make.session(
            cohort=cohort,
            module=(m1, m2)[i % 2],
            title=f"Day {i + 1}",
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=3),
        )
        for i in range(4)
    ]
    people = {
        ("Ləman", "Əliyeva"): [P, P, P, P],
        ("Şükrü", "Yılmaz"): [P, P, P, P],
        ("ნინო", "ბერიძე"): [P, A, A, A],
    }
    enrolments = {}
    for (first, last), statuses in people.items():
        person = make.person(first_name=first, last_name=last)
        enrolment = make.enrolment(cohort=cohort, person=person)
        for session, status in zip(sessions, statuses, strict=True):
            make.attendance(session, enrolment, status)
        enrolments[f"{first} {last}"] = enrolment
    committed_db.commit()
    return Finished(
        cohort_id=cohort.id,
        coordinator=account(
            Role.COORDINATOR, email="coordinator@example.org", programmes=[programme]
        ),
        participant=account(
            Role.PARTICIPANT,
            email="leman@example.org",
            person=enrolments["Ləman Əliyeva"].person,
        ),
        enrolments=enrolments,
    )


def test_coordinator_issues_to_all_eligible_and_the_participant_downloads_theirs(
    page: Any, phone_page: Any, finished: Finished, tmp_path: Path
) -> None:
    leman = finished.enrolments["Ləman Əliyeva"]
    sukru = finished.enrolments["Şükrü Yılmaz"]
    nino = finished.enrolments["ნინო ბერიძე"]

    sign_in(page, finished.coordinator.email)
    page.goto(f"/cohorts/{finished.cohort_id}")
    page.get_by_test_id("cohort-actions").get_by_role("link", name="Certificates").click()
    expect(page).to_have_url(re.compile(rf"/cohorts/{finished.cohort_id}/certificates$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Certificates")
    expect(page.get_by_test_id("completion-rule")).to_contain_text("at least 80%")
    expect(page.get_by_test_id("count-eligible")).to_have_text("2")
    expect(page.get_by_test_id("count-not-eligible")).to_have_text("1")
    expect(page.get_by_test_id(f"reasons-{nino.id}")).to_contain_text(
        "1 of 4 sessions, 25% is below 80%"
    )
    expect(page.get_by_test_id(f"reasons-{nino.id}")).to_contain_text("module M2 not attended")

    with page.expect_navigation():
        page.get_by_test_id("issue-all").click()

    expect(page.get_by_role("status").first).to_have_text(
        "2 issued, 0 already had one, 1 not eligible."
    )
    expect(page.get_by_test_id(f"serial-{leman.id}")).to_have_text(SERIAL)
    expect(page.get_by_test_id(f"serial-{sukru.id}")).to_have_text(SERIAL)
    expect(page.get_by_test_id(f"certificate-{nino.id}")).to_contain_text("Not issued")
    expect(page.get_by_test_id("count-issued")).to_have_text("2")
    expect(page.get_by_test_id("issue-all")).to_have_count(0)
    serial = page.get_by_test_id(f"serial-{leman.id}").inner_text()
    href = page.get_by_test_id(f"serial-{leman.id}").get_attribute("href")
    assert href is not None and re.fullmatch(r"/certificates/\d+\.pdf", href)
    screenshot(page, "e2e-certificates-desktop")
    assert overflow_px(page) == 0

    # The cohort's ZIP, streamed by the server: one PDF per certificate, named for people.
    with page.expect_download() as zipped:
        page.get_by_test_id("download-zip").click()
    archive = zipfile.ZipFile(zipped.value.path())
    assert sorted(archive.namelist()) == sorted(
        [
            f"{serial} Ləman Əliyeva.pdf",
            f"{page.get_by_test_id(f'serial-{sukru.id}').inner_text()} Şükrü Yılmaz.pdf",
        ]
    )
    assert archive.testzip() is None

    # Ləman signs in on her phone and downloads her certificate from her home page.
    phone = phone_page
    sign_in(phone, finished.participant.email)
    link = phone.locator(f'a[href="{href}"]').first
    expect(link).to_be_visible()
    with phone.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{serial}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # Şükrü's certificate is not hers.
    other = page.get_by_test_id(f"serial-{sukru.id}").get_attribute("href")
    assert phone.request.get(other).status == 404

    # An employer she sends the PDF to (not signed in) types the code printed on it.
    printed = PdfReader(saved).pages[0].extract_text()
    match = re.search(r"\b([0-9A-Z]{4})-([0-9A-Z]{4})-([0-9A-Z]{4})-([0-9A-Z]{4})\b", printed)
    assert match, printed
    typed = " ".join(match.groups()).lower()  # as read out over the phone
    phone.context.clear_cookies()
    phone.goto("/verify")
    phone.get_by_label("Verification code").fill(typed)
    phone.get_by_role("button", name="Verify").click()
    expect(phone).to_have_url(re.compile(rf"/verify/{match.group(0)}$"))
    expect(phone.get_by_test_id("verify-status")).to_contain_text("Valid")
    expect(phone.get_by_test_id("holder")).to_have_text("Ləman Əliyeva")
    expect(phone.get_by_test_id("serial")).to_have_text(serial)
    sha256 = hashlib.sha256(saved.read_bytes()).hexdigest()
    expect(phone.get_by_test_id("sha256")).to_have_text(sha256)
    screenshot(phone, "e2e-certificate-verified-360")
    assert wider_than_window(phone) == []


def test_on_a_phone_the_coordinator_issues_anyway_with_a_written_reason(
    phone_page: Any, finished: Finished
) -> None:
    page = phone_page
    nino = finished.enrolments["ნინო ბერიძე"]
    sign_in(page, finished.coordinator.email)
    page.goto(f"/cohorts/{finished.cohort_id}/certificates")
    expect(page.get_by_test_id(f"eligibility-{nino.id}")).to_contain_text("Not eligible")
    page.wait_for_timeout(200)
    screenshot(page, "e2e-certificates-360")
    assert overflow_px(page) == 0, "the certificates page scrolls sideways at 360 px"
    assert wider_than_window(page) == []

    page.get_by_test_id(f"issue-anyway-{nino.id}").click()
    expect(page.get_by_test_id("issue-reasons")).to_contain_text("module M2 not attended")
    with page.expect_navigation():
        page.get_by_test_id("issue-submit").click()
    reason = page.get_by_label("Why is the certificate issued anyway?")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".invalid-feedback")).to_contain_text(
        "write why the certificate is issued anyway"
    )
    screenshot(page, "e2e-certificates-issue-anyway-360")

    reason.fill("Missed three days for a documented medical reason; caught up with the trainer.")
    with page.expect_navigation():
        page.get_by_test_id("issue-submit").click()

    expect(page.get_by_role("status").first).to_contain_text("issued to ნინო ბერიძე.")
    row = page.get_by_test_id(f"certificate-{nino.id}")
    expect(row).to_contain_text("Issued with a reason: Missed three days")
    expect(page.get_by_test_id(f"serial-{nino.id}")).to_have_text(SERIAL)
    screenshot(page, "e2e-certificates-issued-360")
    assert overflow_px(page) == 0
    assert wider_than_window(page) == []


def test_a_large_cohort_is_issued_in_the_background_and_the_page_follows_it(
    page: Any, finished: Finished, live_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``CERTIFICATES_INLINE_MAX`` the worker issues: the page shows the progress,
    reloads itself without a script, then says once what was done."""
    from trainingmgr.certificates import runs

    monkeypatch.setitem(live_app.config, "CERTIFICATES_INLINE_MAX", 1)
    sign_in(page, finished.coordinator.email)
    page.goto(f"/cohorts/{finished.cohort_id}/certificates")
    with page.expect_navigation():
        page.get_by_test_id("issue-all").click()

    expect(page.get_by_role("status").first).to_have_text(
        "Issuing 2 certificates in the background: this page shows how many are done."
    )
    expect(page.get_by_test_id("issue-run")).to_contain_text("0 of 2 done")
    expect(page.get_by_test_id("issue-all")).to_have_count(0)
    expect(page.get_by_test_id("all-issued")).to_have_count(0)  # not yet
    screenshot(page, "e2e-certificates-issuing-in-background")

    with live_app.app_context():
        while runs.work():  # what `flask worker` does
            pass
    # The page reloads itself (every 3 s) and shows the summary.
    expect(page.get_by_test_id("count-issued")).to_have_text("2", timeout=10_000)
    expect(page.get_by_text("2 issued, 0 already had one, 1 not eligible.")).to_be_visible()
    expect(page.get_by_test_id("issue-run")).to_have_count(0)
    assert overflow_px(page) == 0
