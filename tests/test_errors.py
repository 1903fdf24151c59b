"""Friendly error pages: a clear page, never a stack trace, and nothing written."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from trainingmgr import create_app
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.permissions import public
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Programme, ProgrammeKind


def assert_friendly(response: Any, code: int, title: str) -> None:
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert f"Error {code}" in response.text
    assert f'<h1 class="h3">{title}</h1>' in response.text
    assert 'href="/"' in response.text  # a way back home
    assert "Traceback" not in response.text
    assert "<nav" in response.text  # the site's own layout, not a bare server page


def audit_count(session: Any) -> int:
    return session.scalar(sa.select(sa.func.count(AuditEvent.id)))


# ---------------------------------------------------------------------------------------
# CSRF


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_sign_in_without_csrf_token_is_refused_and_writes_nothing(
    client: FlaskClient, make: Any, db_session: Any, csrf_on: None
) -> None:
    user = make.user(Role.COORDINATOR)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert_friendly(response, 400, "This form has expired")
    assert "Nothing was saved." in response.text
    assert audit_count(db_session) == 0
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_sign_in_with_the_form_token_works(
    client: FlaskClient, make: Any, db_session: Any, csrf_on: None
) -> None:
    user = make.user(Role.COORDINATOR)
    token = _token(client.get("/login").text)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_sign_out_without_csrf_token_keeps_the_user_signed_in(
    client: FlaskClient, login: Any, db_session: Any, csrf_on: None
) -> None:
    login(Role.TRAINER)
    page = client.get("/trainer")
    assert _token(page.text)  # the sign-out button carries one

    response = client.post("/logout", data={"csrf_token": "forged"})
    assert_friendly(response, 400, "This form has expired")
    assert client.get("/trainer").status_code == 200
    assert audit_count(db_session) == 0


def test_json_clients_get_json_errors(client: FlaskClient, csrf_on: None) -> None:
    response = client.post("/login", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "This form has expired"


# ---------------------------------------------------------------------------------------
# 404


@pytest.mark.parametrize("role", [None, Role.COORDINATOR, Role.PARTICIPANT])
def test_unknown_address_gets_the_friendly_404_page(
    client: FlaskClient, login: Any, role: Role | None
) -> None:
    if role:
        login(role)
    response = client.get("/no/such/page")
    assert_friendly(response, 404, "Page not found")
    assert "There is nothing at this address." in response.text


def test_unknown_json_address_gets_a_json_404(client: FlaskClient) -> None:
    response = client.get("/no-such-thing.json")
    assert response.status_code == 404
    assert response.json == {
        "error": "Page not found",
        "message": "There is nothing at this address. It may have been moved or deleted, "
        "or the link may be mistyped.",
    }


# ---------------------------------------------------------------------------------------
# 500: an unexpected exception in a view


@pytest.fixture
def failing_app(app: Flask, committed_db: Any, tmp_path: Path) -> Iterator[Flask]:
    """A separate app on the suite's database with a test-only view that writes, then fails."""
    failing = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "errors",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
        }
    )

    @failing.route("/boom", methods=["GET", "POST"])
    @public
    def boom() -> str:
        db.session.add(Programme(code="HALF", title="Half-written", kind=ProgrammeKind.WORKSHOP))
        db.session.flush()
        raise RuntimeError("secret internal detail")

    yield failing
    with failing.app_context():
        db.engine.dispose()


def test_unexpected_error_gets_the_friendly_500_page_and_nothing_is_saved(
    failing_app: Flask, committed_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="trainingmgr.errors"):
        response = failing_app.test_client().post("/boom")
    assert_friendly(response, 500, "Something went wrong")
    assert "Nothing was saved." in response.text
    assert "secret internal detail" not in response.text
    assert "RuntimeError" not in response.text
    # Logged for the administrator, with the exception.
    [record] = [r for r in caplog.records if r.name == "trainingmgr.errors"]
    assert "unexpected error on POST /boom" in record.getMessage()
    assert record.exc_info and "secret internal detail" in str(record.exc_info[1])
    committed_db.expire_all()
    assert committed_db.scalar(sa.select(sa.func.count(Programme.id))) == 0


def test_unexpected_error_for_a_json_client_is_json(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json is not None
    assert response.json["error"] == "Something went wrong"
    assert "secret" not in response.text


# ---------------------------------------------------------------------------------------
# Text no database column can hold


def test_a_nul_character_in_a_form_or_a_query_gets_a_clear_400_and_writes_nothing(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    """PostgreSQL refuses NUL (U+0000) in text: a pasted answer or a hostile request holding
    one is refused with words (nothing saved), never a server error, on both databases."""
    from tests.test_evaluations import FULL, _answers, _participant, _survey
    from trainingmgr.evaluations.models import EvaluationResponse
    from trainingmgr.people.models import Person

    cohort = make.cohort()
    survey = _survey(make, cohort)
    user, _enrolment = _participant(make, cohort)
    login(user=user)
    answer = client.post(
        f"/me/evaluations/{cohort.id}/survey",
        data=_answers(survey, *FULL[:6], "useful\x00text", ""),
    )
    assert_friendly(answer, 400, "This text cannot be saved")
    assert "NUL" in answer.text and "Nothing was saved." in answer.text
    assert db_session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 0

    login(role=Role.ADMIN)
    people = db_session.scalar(sa.select(sa.func.count(Person.id)))
    added = client.post("/people/new", data={"first_name": "A\x00", "last_name": "B"})
    assert_friendly(added, 400, "This text cannot be saved")
    assert db_session.scalar(sa.select(sa.func.count(Person.id))) == people
    assert_friendly(client.get("/people/?q=a%00b"), 400, "This text cannot be saved")
    # In the second value of a repeated field, too (checkboxes, roster rows).
    assert_friendly(client.get("/people/?q=a&q=b%00"), 400, "This text cannot be saved")
    assert client.get("/people/?q=ab").status_code == 200
