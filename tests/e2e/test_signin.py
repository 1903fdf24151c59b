"""Signing in through the form on a 360 px phone, for each role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import open_menu, overflow_px, screenshot, sign_in, wider_than_window
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.programmes.models import ProgrammeKind

pytestmark = pytest.mark.e2e

HOMES = {
    Role.ADMIN: ("/dashboard", "Dashboard"),
    Role.COORDINATOR: ("/dashboard", "Dashboard"),
    Role.TRAINER: ("/trainer", "My sessions"),
    Role.PARTICIPANT: ("/me", "My training"),
}


@dataclass
class Training:
    users: dict[Role, User]


@pytest.fixture
def training(committed_db: Any, make: Any, account: Any) -> Training:
    """A roll-out in Baku under way: a trainer, a participant, sessions and attendance."""
    today = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    programme = make.programme(
        code="RTCM-RO",
        title="Regional Training Centre on Migration: national roll-out",
        kind=ProgrammeKind.ROLLOUT,
    )
    cohort = make.cohort(
        programme=programme,
        name="RTCM roll-out Ganja 2026",
        start_date=(today - timedelta(days=1)).date(),
        end_date=(today + timedelta(days=1)).date(),
        timezone="Asia/Baku",
        venue="Ganja State University",
        city="Ganja",
        capacity=30,
    )
    trainer = make.person(first_name="Şükrü", last_name="Yılmaz", email="sukru@example.org")
    participant = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    enrolment = make.enrolment(cohort=cohort, person=participant)
    titles = [
        "International migration law and the protection of the rights of migrants",
        "Countering migrant smuggling",
        "Readmission",
    ]
    for day, title in enumerate(titles, start=-1):
        session = make.session(
            cohort=cohort,
            title=title,
            starts_at=today + timedelta(days=day),
            ends_at=today + timedelta(days=day, hours=3, minutes=30),
        )
        session.trainers.append(trainer)
        if day < 0:
            make.attendance(session, enrolment, AttendanceStatus.LATE)
    committed_db.commit()
    return Training(
        users={
            Role.ADMIN: account(Role.ADMIN, email="admin@example.org"),
            Role.COORDINATOR: account(Role.COORDINATOR, email="coordinator@example.org"),
            Role.TRAINER: account(Role.TRAINER, email="sukru@example.org", person=trainer),
            Role.PARTICIPANT: account(
                Role.PARTICIPANT, email="leman@example.org", person=participant
            ),
        }
    )


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_signs_in_on_a_phone_and_lands_on_its_home(
    phone_page: Any, training: Training, role: Role
) -> None:
    page = phone_page
    path, heading = HOMES[role]
    sign_in(page, training.users[role].email)

    expect(page).to_have_url(re.compile(f"{re.escape(path)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("status").first).to_contain_text("Welcome, ")
    expect(page.get_by_text("Readmission").first).to_be_visible()
    if role == Role.PARTICIPANT:
        # 05:00 UTC is 09:00 in Baku; attendance already recorded is shown.
        expect(page.get_by_text("09:00–12:30").first).to_be_visible()
        expect(page.get_by_text("Late").first).to_be_visible()

    screenshot(page, f"home-{role.value}-360")
    assert overflow_px(page) == 0, "the page scrolls sideways at 360 px"
    assert wider_than_window(page) == []


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.PARTICIPANT, "My training", "Dashboard"),
        (Role.COORDINATOR, "Dashboard", "My training"),
    ],
)
def test_phone_menu_shows_what_the_role_may_use_and_signs_out(
    phone_page: Any, training: Training, role: Role, shown: str, hidden: str
) -> None:
    page = phone_page
    sign_in(page, training.users[role].email)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name=shown)).to_be_hidden()  # collapsed on a phone
    open_menu(page)
    expect(nav.get_by_role("link", name=shown)).to_be_visible()
    expect(nav.get_by_role("link", name=hidden)).to_have_count(0)

    with page.expect_navigation():
        nav.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status").first).to_contain_text("You have signed out.")
    page.goto(HOMES[role][0])
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_wrong_password_shows_the_message(phone_page: Any, training: Training) -> None:
    page = phone_page
    email = training.users[Role.COORDINATOR].email
    sign_in(page, email, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_have_text("The e-mail or password is not correct.")
    expect(page.get_by_label("E-mail")).to_have_value(email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    screenshot(page, "login-wrong-password-360")
    assert overflow_px(page) == 0
