"""Signing out ends the session on the server: a copied session or remember-me cookie stops
working at once; "sign out everywhere" ends every device; remember-me lasts 30 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD
from trainingmgr.accounts.models import Role, SignIn
from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.types import utcnow


def sign_in(client: FlaskClient, email: str, remember: bool = False) -> None:
    form = {"email": email, "password": PASSWORD}
    if remember:
        form["remember"] = "y"
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.text


def copy_of(app: Flask, client: FlaskClient, *names: str) -> FlaskClient:
    """A fresh client (another computer) holding copies of ``client``'s cookies ``names``."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def opens_the_dashboard(client: FlaskClient) -> bool:
    return client.get("/dashboard").status_code == 200


def test_copied_cookies_stop_working_when_the_owner_signs_out(
    app: Flask, client: FlaskClient, make: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email, remember=True)
    session_copy = copy_of(app, client, "session")
    remember_copy = copy_of(app, client, "remember_token")
    assert opens_the_dashboard(session_copy) and opens_the_dashboard(remember_copy)

    assert client.post("/logout").status_code == 302

    assert not opens_the_dashboard(copy_of(app, session_copy, "session"))
    assert not opens_the_dashboard(copy_of(app, remember_copy, "remember_token"))
    assert not opens_the_dashboard(client)


def test_remember_me_lasts_thirty_days_and_a_plain_sign_in_a_working_day(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    sign_in(client, user.email, remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.expires is not None
    assert timedelta(days=29) < cookie.expires - utcnow() <= timedelta(days=30, minutes=1)
    sign_in(client.application.test_client(), user.email)
    remembered, plain = db_session.scalars(
        sa.select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.id)
    ).all()
    assert remembered.expires_at - remembered.created_at == timedelta(days=30)
    assert plain.expires_at - plain.created_at == timedelta(hours=12)


def test_an_expired_sign_in_no_longer_opens_anything(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email)
    assert opens_the_dashboard(client)
    row = db_session.scalars(sa.select(SignIn).where(SignIn.user_id == user.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert not opens_the_dashboard(client)


def test_sign_out_everywhere_ends_every_device(
    app: Flask, client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, user.email)
    sign_in(laptop, user.email, remember=True)
    assert opens_the_dashboard(phone) and opens_the_dashboard(laptop)
    assert "Sign out everywhere" in laptop.get("/me/profile").text
    stolen = copy_of(app, laptop, "remember_token")

    response = laptop.post("/logout/everywhere")

    assert response.status_code == 302
    assert "signed out on 2 devices" in laptop.get(response.headers["Location"]).text
    assert not opens_the_dashboard(phone)
    assert not opens_the_dashboard(stolen)
    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_out_everywhere")
    ).one()
    assert event.actor_id == user.id


def test_signing_in_replaces_the_forms_security_token(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.COORDINATOR)
    with client.session_transaction() as session:
        session["csrf_token"] = "seen-before-signing-in"
    sign_in(client, user.email)
    with client.session_transaction() as session:
        assert session.get("csrf_token") != "seen-before-signing-in"
