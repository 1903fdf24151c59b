"""Two-factor sign-in for staff: set up with an authenticator app, a code after the password
(or an e-mailed link), recovery codes, the organisation's requirement, an administrator's
reset, and rate limits."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from trainingmgr.accounts import twofactor
from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.extensions import limiter
from trainingmgr.organisation import services as organisation


def sign_in(client: FlaskClient, email: str) -> str:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def code_for(secret: str, later: int = 0) -> str:
    """The app's code ``later`` steps of 30 s from now (a code is accepted once)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * later)


def set_up(client: FlaskClient, user: User) -> list[str]:
    page = client.get("/me/two-factor")
    assert page.status_code == 200 and 'data-testid="setup-qr"' in page.text
    secret = re.search(r'data-testid="setup-secret">([A-Z2-7]+)<', page.text).group(1)
    assert "otpauth://totp/" in page.text and f"secret={secret}" in page.text
    done = client.post("/me/two-factor", data={"code": code_for(secret)})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", done.text)
    assert len(codes) == 10
    return codes


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_set_up_then_every_sign_in_asks_for_the_code(
    app: Flask, client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email)
    set_up(client, user)
    assert events(db_session, "auth.two_factor_enabled")
    client.post("/logout")

    again = app.test_client()
    assert sign_in(again, user.email) == "/"  # then the gate: the code page
    blocked = again.get("/dashboard")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/login/code")
    wrong = again.post("/login/code", data={"code": "000000", "next": "/dashboard"})
    assert wrong.status_code == 400 and "This code is not right" in wrong.text
    right = again.post(
        "/login/code", data={"code": code_for(user.totp_secret, 1), "next": "/dashboard"}
    )
    assert right.status_code == 302 and right.headers["Location"] == "/dashboard"
    assert again.get("/dashboard").status_code == 200
    assert events(db_session, "auth.two_factor_failed") and events(
        db_session, "auth.two_factor_passed"
    )


def test_a_code_works_once(app: Flask, client: FlaskClient, make: Any) -> None:
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email)
    set_up(client, user)
    code = code_for(user.totp_secret, 1)
    first, second = app.test_client(), app.test_client()
    sign_in(first, user.email)
    sign_in(second, user.email)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    assert second.post("/login/code", data={"code": code}).status_code == 400  # replayed


def test_a_recovery_code_signs_in_once(app: Flask, client: FlaskClient, make: Any) -> None:
    user = make.user(Role.ADMIN)
    sign_in(client, user.email)
    codes = set_up(client, user)
    first, second = app.test_client(), app.test_client()
    sign_in(first, user.email)
    assert first.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    sign_in(second, user.email)
    assert second.post("/login/code", data={"code": codes[0]}).status_code == 400
    assert "9 recovery codes left" in first.get("/me/two-factor").text


def test_an_e_mailed_sign_in_does_not_skip_the_second_factor(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = user.created_at
    db_session.flush()
    login(user=user)  # any way of signing in: a password, a link, an invitation
    response = client.get("/people/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/code?next=/people/")


def test_the_organisation_can_require_it_and_the_admin_must_set_it_up_first(
    app: Flask, client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = make.user(Role.ADMIN)
    login(user=admin)
    page = client.get("/admin/organisation")
    assert page.status_code == 200 and "Require two-factor sign-in for administrators" in page.text
    settings = organisation.get_settings()
    settings.two_factor_admins = True
    db_session.flush()

    fresh = app.test_client()
    sign_in(fresh, admin.email)
    blocked = fresh.get("/dashboard")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/me/two-factor")
    assert "requires two-factor sign-in for your role" in fresh.get("/me/two-factor").text
    set_up(fresh, admin)
    assert fresh.get("/dashboard").status_code == 200
    off = fresh.post("/me/two-factor/off")
    assert off.status_code == 302 and twofactor.enabled(admin)  # required: it stays on


def test_production_requires_it_for_administrators_by_default(
    app: Flask, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context():
        assert organisation.two_factor_policy() == (False, False)  # development, the demo
        monkeypatch.setitem(app.config, "TRAININGMGR_ENV", "production")
        assert organisation.two_factor_policy() == (True, False)


def test_an_administrator_resets_a_lost_second_factor(
    app: Flask, client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    owner = app.test_client()
    sign_in(owner, user.email)
    set_up(owner, user)
    coordinator = make.user(Role.COORDINATOR)
    login(user=coordinator)
    assert client.post(f"/admin/accounts/{user.id}/two-factor/reset").status_code in (403, 404)
    login(Role.ADMIN)
    assert 'data-testid="reset-two-factor"' in client.get(f"/admin/accounts/{user.id}").text

    response = client.post(f"/admin/accounts/{user.id}/two-factor/reset")

    assert response.status_code == 302
    db_session.refresh(user)
    assert not twofactor.enabled(user) and user.totp_secret is None
    assert owner.get("/dashboard").status_code == 302  # their sign-ins ended
    assert events(db_session, "auth.two_factor_reset")


def test_guessing_codes_is_rate_limited(
    app: Flask, client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = user.created_at
    db_session.flush()
    limiter.reset()
    guesser = app.test_client()
    sign_in(guesser, user.email)
    statuses = [
        guesser.post("/login/code", data={"code": f"{n:06d}"}).status_code for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]


def test_a_code_in_other_digits_is_read_as_the_same_code(
    app: Flask, client: FlaskClient, make: Any
) -> None:
    """A phone keyboard may type full-width (１２３) or Arabic-Indic (١٢٣) digits: the code
    is read as its ASCII digits, and a code that is no code is refused, never a server error."""
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email)
    set_up(client, user)
    wrong, right = app.test_client(), app.test_client()
    sign_in(wrong, user.email)
    for odd in ("１２３４５６", "١٢٣٤٥٦", "²³⁴⁵⁶⁷½"):  # under the rate limit
        refused = wrong.post("/login/code", data={"code": odd})
        assert refused.status_code == 400, odd
        assert "This code is not right, or was already used." in refused.text
    full_width = code_for(user.totp_secret, 1).translate(
        {ord("0") + d: 0xFF10 + d for d in range(10)}
    )
    sign_in(right, user.email)
    assert right.post("/login/code", data={"code": full_width}).status_code == 302
