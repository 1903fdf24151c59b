"""Certificates of an international programme in the browser (issue 15): a coordinator adds
the EU (emblem) and a funder with its logo, is warned before the cohort's end and about a
name no shipped font prints, issues after confirming; an administrator uploads a certificate
font, and the Chinese name is issued too. Phone and desktop screenshots of each screen."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e import overflow_px, screenshot, sign_in
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus

pytestmark = pytest.mark.e2e

FONT = Path(__file__).parent.parent / "data" / "cjk-test-font.ttf"


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 160), "#b22222").save(out, "PNG")
    return out.getvalue()


def test_funders_early_issue_and_an_uploaded_font(
    page: Any, phone_page: Any, committed_db: Any, make: Any, account: Any, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    programme = make.programme(code="IBM", title="Integrated Border Management")
    cohort = make.cohort(
        programme,
        name="IBM Baku 2026",
        start_date=(now - timedelta(days=10)).date(),
        end_date=(now + timedelta(days=20)).date(),
        timezone="UTC",
        min_attendance_pct=80,
    )
    session = make.session(
        cohort=cohort, starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=3, hours=-3)
    )
    for first, last in (("Anna", "Smith"), ("小明", "王")):
        enrolment = make.enrolment(
            cohort=cohort, person=make.person(first_name=first, last_name=last)
        )
        make.attendance(session, enrolment, AttendanceStatus.PRESENT)
    committed_db.commit()
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    admin = account(Role.ADMIN, email="admin@example.org")

    # Funders: the EU (its emblem) and a funder with a logo.
    sign_in(page, coordinator.email)
    page.goto(f"/programmes/{programme.id}/partners/new")
    page.get_by_label("Organisation").fill("European Union")
    page.get_by_label("Role").select_option("funder")
    page.get_by_label("This funder is the European Union").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    page.goto(f"/programmes/{programme.id}/partners/new")
    page.get_by_label("Organisation").fill("Swiss Agency for Development and Cooperation")
    page.get_by_label("Role").select_option("funder")
    page.get_by_label("Logo printed on certificates").set_input_files(
        files=[{"name": "sdc.png", "mimeType": "image/png", "buffer": _logo()}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("partners")).to_contain_text("EU emblem")
    page.get_by_role("link", name="Edit Swiss Agency for Development and Cooperation").click()
    expect(page.get_by_test_id("partner-logo")).to_be_visible()
    screenshot(page, "i15b-partner-form-desktop")
    assert overflow_px(page) == 0

    # The cohort's page warns before its end and about the name no font prints.
    page.goto(f"/cohorts/{cohort.id}/certificates")
    expect(page.get_by_test_id("before-end")).to_contain_text("has not ended yet")
    expect(page.get_by_test_id("unprintable")).to_contain_text("ask an administrator")
    screenshot(page, "i15b-cohort-certificates-desktop")
    assert overflow_px(page) == 0
    page.get_by_label("I confirm: issue before the cohort ends").check()
    with page.expect_navigation():
        page.get_by_test_id("issue-all").click()
    expect(page.get_by_role("status").first).to_contain_text("1 issued")

    # The revoke form (its reason stays internal; the public note is public).
    page.get_by_role("link", name="Revoke…").first.click()
    expect(page.get_by_label("Public note (optional)")).to_be_visible()
    screenshot(page, "i15b-revoke-desktop")

    # An administrator uploads a certificate font with Chinese letters.
    sign_in(phone_page, admin.email)
    phone_page.goto(f"/cohorts/{cohort.id}/certificates")
    warning = phone_page.get_by_test_id("unprintable")
    expect(warning).to_contain_text("upload a font that has these letters")
    screenshot(phone_page, "i15b-cohort-certificates-warning-phone")
    assert overflow_px(phone_page) == 0
    with phone_page.expect_navigation():
        warning.get_by_role("link", name="Upload a certificate font").click()
    phone_page.get_by_label("Font file").set_input_files(str(FONT))
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Upload the font").click()
    expect(phone_page.get_by_role("status").first).to_contain_text("DroidSansFallback")
    expect(phone_page.get_by_test_id("fallback-font")).to_contain_text("DroidSansFallback")
    screenshot(phone_page, "i15b-organisation-font-phone")
    assert overflow_px(phone_page) == 0

    # Now the Chinese name can be printed: issued after confirming again.
    phone_page.goto(f"/cohorts/{cohort.id}/certificates")
    expect(phone_page.get_by_test_id("unprintable")).to_have_count(0)
    screenshot(phone_page, "i15b-cohort-certificates-phone")
    assert overflow_px(phone_page) == 0
    phone_page.get_by_label("I confirm: issue before the cohort ends").check()
    with phone_page.expect_navigation():
        phone_page.get_by_test_id("issue-all").click()
    expect(phone_page.get_by_role("status").first).to_contain_text("1 issued")
    link = phone_page.locator("a[href$='.pdf']").filter(has_text="IBM-").last
    response = phone_page.request.get(link.get_attribute("href"))
    data = response.body()
    (tmp_path / "chinese.pdf").write_bytes(data)
    Path("/tmp/shots/i15b-chinese-certificate.pdf").write_bytes(data)
    text = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "小明王" in text
    assert "FundedbytheEuropeanUnion" in text
    phone_page.goto(f"/programmes/{programme.id}/partners/new")
    screenshot(phone_page, "i15b-partner-form-phone")
    phone_page.goto(f"/cohorts/{cohort.id}/certificates")
    phone_page.get_by_role("link", name="Revoke…").first.click()
    screenshot(phone_page, "i15b-revoke-phone")
    assert overflow_px(phone_page) == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    sign_in(page, admin.email)
    page.goto("/admin/organisation#certificate-font")
    screenshot(page, "i15b-organisation-font-desktop")
    assert overflow_px(page) == 0
