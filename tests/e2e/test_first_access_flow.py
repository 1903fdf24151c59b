"""The whole first-time journey of a participant on a 360 px phone: a coordinator enrols
someone who has no account, the confirmation reaches a real SMTP server, its link creates the
account and opens the schedule; later the certificate e-mail's link, followed while signed
out, survives the sign-in by link and downloads the PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e import screenshot, sign_in, wider_than_window
from tests.e2e.mailbox import Mailbox
from trainingmgr.accounts.models import Role, User
from trainingmgr.cohorts.models import Enrolment, EnrolmentStatus

pytestmark = pytest.mark.e2e

KOFI = "kofi.asante@example.org"


def test_a_new_participant_gets_in_from_the_emails_alone(
    phone_page: Any, committed_db: Any, make: Any, account: Any, mailbox: Mailbox
) -> None:
    page = phone_page
    today = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    cohort = make.cohort(
        name="RTCM roll-out Accra",
        start_date=(today + timedelta(days=1)).date(),
        end_date=(today + timedelta(days=3)).date(),
        timezone="Africa/Accra",
    )
    make.session(
        cohort,
        title="Countering migrant smuggling",
        starts_at=today + timedelta(days=1, hours=4),
        ends_at=today + timedelta(days=1, hours=7),
    )
    make.person(first_name="Kofi", last_name="Asante", email=KOFI)
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    committed_db.commit()

    # The coordinator enrols Kofi by his address.
    sign_in(page, coordinator.email)
    page.goto(f"/cohorts/{cohort.id}/enrolments")
    form = page.get_by_test_id("enrol-by-email")
    form.get_by_label("E-mail").fill(KOFI)
    form.get_by_role("button", name="Enrol").click()
    row = page.get_by_test_id("roster-table").get_by_role("row", name=re.compile("Kofi Asante"))
    expect(row.get_by_test_id("access-state")).to_contain_text("Link sent on")
    screenshot(page, "access-roster-phone")
    page.context.clear_cookies()  # the coordinator's phone changes hands

    # Kofi's confirmation: "Your training page" signs him in and opens it.
    link = mailbox.link(KOFI, r"/login/link/[A-Za-z0-9_\-]+\?next=/me")
    page.goto(link)
    expect(page.get_by_test_id("first-sign-in")).to_be_visible()
    screenshot(page, "access-first-sign-in-phone")
    assert wider_than_window(page) == []
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.get_by_test_id("next-session")).to_contain_text("Countering migrant smuggling")
    screenshot(page, "access-me-phone")
    assert wider_than_window(page) == []
    committed_db.rollback()  # see what the live server committed
    user = committed_db.scalar(sa.select(User).where(User.email == KOFI))
    assert user is not None and user.person is not None and user.roles == {Role.PARTICIPANT}

    # Later: his certificate is issued, and he opens its e-mail signed out.
    enrolment = committed_db.scalar(
        sa.select(Enrolment).where(Enrolment.person_id == user.person_id)
    )
    enrolment.status = EnrolmentStatus.COMPLETED
    make.certificate(enrolment, actor=committed_db.get(User, coordinator.id))
    committed_db.commit()
    page.context.clear_cookies()
    # Issued here, not by the live server: the link's host is the test app's BASE_URL.
    pdf_link = mailbox.link(KOFI, r"/certificates/\d+\.pdf")
    page.goto(urlsplit(pdf_link).path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_role("link", name="E-mail me a sign-in link").click()
    page.get_by_label("E-mail").fill(KOFI)
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    link = mailbox.link(KOFI, r"/login/link/[A-Za-z0-9_\-]+\?next=/certificates/\d+\.pdf")
    page.goto(link)
    with page.expect_download() as download:
        page.get_by_role("button", name="Sign in").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.endswith(".pdf")
