"""Every error of a form in one submit, listed at the top of the form and linked to each
field (the programme form; the `form_errors` macro other forms use)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role
from trainingmgr.programmes.models import Programme

FORM = {
    "code": "MMDP-2026",
    "title": "Migration Management Diploma Programme",
    "kind": "diploma",
    "start_date": "2026-03-02",
    "end_date": "2026-06-30",
    "budget": "",
    "currency": "",
    "target_countries": "AZ",
    "target_regions": "",
    "default_min_attendance_pct": "80",
    "default_min_hours": "",
    "default_certificate_language": "en",
}


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def _summary(html: str) -> str:
    found = re.search(r'data-testid="form-errors".*?</div>', html, re.S)
    return found.group(0) if found else ""


def test_dates_percentage_and_hours_are_all_reported_in_one_submit(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    bad = {
        "end_date": "2026-01-01",
        "default_min_attendance_pct": "120",
        "default_min_hours": "100000",
        "currency": "EUX",
    }
    html = client.post("/programmes/new", data={**FORM, **bad}).get_data(as_text=True)
    assert "before the start date" in _error_of(html, "end_date")
    assert "0 to 100" in _error_of(html, "default_min_attendance_pct")
    assert "minimum hours" in _error_of(html, "default_min_hours")
    assert "ISO 4217" in _error_of(html, "currency")
    summary = _summary(html)
    assert "4 problems to fix" in summary
    for field in ("end_date", "default_min_attendance_pct", "default_min_hours", "currency"):
        assert f'href="#{field}"' in summary
    assert db_session.scalar(sa.select(sa.func.count(Programme.id))) == 0


def test_unreadable_fields_and_broken_rules_are_reported_together(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    """A date that cannot be read (the form's check) and a percentage out of range and a
    code already used (the service's rules) in the same answer."""
    make.programme(code="MMDP-2026")
    login(Role.COORDINATOR)
    bad = {"start_date": "soon", "default_min_attendance_pct": "101"}
    html = client.post("/programmes/new", data={**FORM, **bad}).get_data(as_text=True)
    assert "Enter a date such as" in _error_of(html, "start_date")
    assert "0 to 100" in _error_of(html, "default_min_attendance_pct")
    assert "already uses the code MMDP-2026" in _error_of(html, "code")
    assert "3 problems to fix" in _summary(html)
    assert db_session.scalar(sa.select(sa.func.count(Programme.id))) == 1


def test_one_error_is_one_problem_and_a_valid_form_shows_no_summary(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    html = client.post("/programmes/new", data={**FORM, "title": ""}).get_data(as_text=True)
    assert "1 problem to fix" in _summary(html)
    assert 'href="#title"' in _summary(html)
    assert _summary(client.get("/programmes/new").get_data(as_text=True)) == ""


def test_editing_reports_every_error_and_keeps_the_stored_values(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    programme = make.programme(code="RTCM", default_min_attendance_pct=75)
    login(Role.ADMIN)
    bad = {"code": "RTCM", "end_date": "2026-01-01", "default_min_attendance_pct": "-1"}
    html = client.post(f"/programmes/{programme.id}/edit", data={**FORM, **bad}).text
    assert "2 problems to fix" in _summary(html)
    db_session.refresh(programme)
    assert programme.default_min_attendance_pct == 75


def test_an_invitation_reports_the_role_the_programme_and_the_address_at_once(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    from trainingmgr.accounts.models import User

    mine = make.programme(code="MINE")
    make.user(Role.PARTICIPANT, email="already@example.org")
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(mine)
    users_before = db_session.scalar(sa.select(sa.func.count(User.id)))

    html = client.post(
        "/admin/invite",
        data={"email": "already@example.org", "roles": ["coordinator"], "programmes": []},
    ).text

    assert "You may not give the role “Coordinator”." in _error_of(html, "roles")
    assert "Choose the programme the trainer is invited for." in _error_of(html, "programmes")
    assert "already has an account" in _error_of(html, "email")
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == users_before
