"""An administrator invites a coordinator for one programme; the coordinator follows the
e-mailed link on a phone, chooses a password, lands on their dashboard and sees only that
programme; the administrator sees both actions in the audit trail (issue 9).

The link is read from a real SMTP server the outbox was delivered to.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in, wider_than_window
from tests.e2e.mailbox import Mailbox
from trainingmgr.accounts.models import Role, User

pytestmark = pytest.mark.e2e

PASSWORD = "saffron-kettle-orbit-42"


def _invitation_link(mailbox: Mailbox, address: str) -> str:
    return mailbox.link(address, r"/invitation/[A-Za-z0-9_-]+")


def _account_row(page: Any, address: str) -> Any:
    return page.get_by_test_id("accounts").locator("tbody tr").filter(has_text=address)


def test_admin_invites_a_coordinator_who_accepts_on_a_phone(
    page: Any, phone_page: Any, committed_db: Any, make: Any, account: Any, mailbox: Mailbox
) -> None:
    make.programme(code="MMDP-2026", title="Migration Management Diploma Programme")
    other = make.programme(code="RTCM-RO", title="Regional Training Centre on Migration: roll-out")
    committed_db.commit()
    account(Role.ADMIN, email="admin@example.org", display_name="Aysel Hasanova")

    # The administrator invites Nigar as coordinator of MMDP-2026.
    sign_in(page, "admin@example.org")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Accounts"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("E-mail").fill("Nigar.Mammadova@example.org")
    page.get_by_label("First name").fill("Nigar")
    page.get_by_label("Last name").fill("Mammadova")
    page.get_by_label("Coordinator", exact=True).check()
    page.get_by_label("MMDP-2026 · Migration Management Diploma Programme").check()
    screenshot(page, "admin-invite-desktop")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "The invitation was e-mailed to nigar.mammadova@example.org."
    )
    expect(page.get_by_test_id("account-status")).to_have_text("Invited")
    screenshot(page, "admin-account-desktop")

    # The accounts list shows the pending invitation.
    page.goto("/admin/accounts")
    row = _account_row(page, "nigar.mammadova@example.org")
    expect(row).to_contain_text("Nigar Mammadova")
    expect(row).to_contain_text("Coordinator")
    expect(row).to_contain_text("MMDP-2026")
    expect(row).to_contain_text("Invited")
    expect(row).to_contain_text("never")
    screenshot(page, "admin-accounts-desktop")
    assert overflow_px(page) == 0
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "admin-accounts-360")
    assert overflow_px(page) == 0, "the accounts list scrolls sideways at 360 px"
    assert wider_than_window(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    link = _invitation_link(mailbox, "nigar.mammadova@example.org")

    # Nigar opens the link on her phone.
    phone = phone_page
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Accept your invitation")
    invitation = phone.get_by_test_id("invitation")
    expect(invitation).to_contain_text("Aysel Hasanova invited you to use trainingmgr")
    expect(invitation).to_contain_text("nigar.mammadova@example.org")
    expect(invitation).to_contain_text("MMDP-2026 · Migration Management Diploma Programme")
    screenshot(phone, "invitation-360")
    assert overflow_px(phone) == 0, "the invitation page scrolls sideways at 360 px"
    assert wider_than_window(phone) == []

    # A common password is refused, with the reason next to the field.
    phone.get_by_label("New password", exact=True).fill("password1234")
    phone.get_by_label("New password again").fill("password1234")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Set my password and sign in").click()
    expect(phone.get_by_text("This password is one of the most common ones")).to_be_visible()

    phone.get_by_label("New password", exact=True).fill(PASSWORD)
    phone.get_by_label("New password again").fill(PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Set my password and sign in").click()
    expect(phone).to_have_url(re.compile(r"/dashboard$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(phone.get_by_role("status").first).to_contain_text(
        "Your password is set. Welcome, Nigar Mammadova."
    )

    # She coordinates MMDP-2026 only: the other programme is neither listed nor reachable.
    phone.goto("/programmes/")
    expect(phone.get_by_text("MMDP-2026").first).to_be_visible()
    expect(phone.get_by_text("RTCM-RO")).to_have_count(0)
    assert phone.goto(f"/programmes/{other.id}").status == 404

    # The link is used up.
    phone.goto(link)
    expect(phone.get_by_test_id("link-problem")).to_contain_text("already been used")

    # The administrator sees the invitation and its acceptance in the audit trail.
    page.goto("/audit")
    trail = page.get_by_test_id("audit-events")
    screenshot(page, "audit-after-invitation-desktop")
    invited = trail.locator("tr").filter(has_text="user.invited")
    expect(invited).to_contain_text("Aysel Hasanova")
    expect(invited).to_contain_text("Invited")
    accepted = trail.locator("tr").filter(has_text="user.invitation_accepted")
    expect(accepted).to_contain_text("Nigar Mammadova")
    expect(accepted).to_contain_text("Invitation accepted")
    expect(trail).to_contain_text("nigar.mammadova@example.org")

    # The administrator now sees an active coordinator who has signed in.
    page.goto("/admin/accounts")
    row = _account_row(page, "nigar.mammadova@example.org")
    expect(row).to_contain_text("Active")
    expect(row).not_to_contain_text("never")

    # And the desktop view of an invitation page (another invitation, for a trainer).
    page.goto("/admin/invite")
    page.get_by_label("E-mail").fill("sukru.yilmaz@example.org")
    page.get_by_label("First name").fill("Şükrü")
    page.get_by_label("Last name").fill("Yılmaz")
    page.get_by_label("Trainer", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    link = _invitation_link(mailbox, "sukru.yilmaz@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept your invitation")
    screenshot(page, "invitation-desktop")
    assert overflow_px(page) == 0

    committed_db.rollback()  # a new transaction sees what the server committed
    nigar = committed_db.scalars(
        sa.select(User).where(User.email == "nigar.mammadova@example.org")
    ).one()
    assert nigar.roles == {Role.COORDINATOR}
    assert [p.code for p in nigar.programmes] == ["MMDP-2026"]
    assert nigar.password_hash and nigar.last_login_at is not None
